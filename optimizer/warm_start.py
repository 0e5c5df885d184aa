"""A simplex basis carried from one LP to the next LP of another shape, by keys.

The look-ahead (`optimizer.lookahead`) builds a new LP at every step: sessions come and
go, and its blocks move on with the clock. Solved cold, most of a step's simplex work
re-discovers what the last step's basis already knew. Here each column and row carries a
key (what it is, whose, which block) and the new LP starts from the statuses of the old
one's columns and rows with the same key; what has no counterpart starts nonbasic at its
lower bound (a column) or basic (a row's slack). Such a basis rarely has exactly one
basic variable per row and may be singular, so it is handed to HiGHS as an *alien*
basis, which HiGHS completes into a nonsingular one before its simplex starts.

Keys are int64: a kind (`KIND_SHIFT`), an owner (a session's connector index or a row
template, `OWNER_SHIFT`) and a block + 1 (0 for none). A key of -1 matches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt

from optimizer.fairness import IntArray

Int8Array = npt.NDArray[np.int8]

KIND_SHIFT = 48
OWNER_SHIFT = 24
NO_KEY = -1
LOWER = 0
"""HiGHS's basis statuses as small ints (`highspy.HighsBasisStatus`)."""
BASIC = 1
UPPER = 2
_STATUSES = np.array([highspy.HighsBasisStatus(code) for code in range(5)], dtype=object)
"""HiGHS's statuses by code, to look up a basis's worth at once."""


def keys(kind: int, owner: IntArray | int, block: IntArray | int) -> IntArray:
    """Keys of `kind` for each (owner, block) broadcast together; `block` -1 (a block with
    no counterpart) gives `NO_KEY`. Use `block` 0 for what belongs to no block."""
    owner_a = np.asarray(owner, dtype=np.int64)
    block_a = np.asarray(block, dtype=np.int64)
    key = (np.int64(kind) << KIND_SHIFT) | (owner_a << OWNER_SHIFT) | (block_a + 1)
    return np.asarray(np.where(block_a < 0, NO_KEY, key), dtype=np.int64)


@dataclass(frozen=True)
class KeyedBasis:
    """A solved LP's basis by key: `cols`/`rows` keys sorted, their statuses beside them."""

    col_keys: IntArray
    col_status: Int8Array
    row_keys: IntArray
    row_status: Int8Array

    @staticmethod
    def of(highs: Any, col_keys: IntArray, row_keys: IntArray) -> KeyedBasis | None:
        """The basis `highs` holds after a solve, None if it holds none. A nonbasic
        column or row is taken to sit at its upper bound where its dual is negative (the
        objective is minimised), else at its lower one. (Reading HiGHS's own statuses,
        a Python object per column, took longer than the rest of this.)"""
        status, basic = highs.getBasicVariables()
        if status != highspy.HighsStatus.kOk or len(basic) != len(row_keys):
            return None
        solution = highs.getSolution()
        cols = np.where(np.asarray(solution.col_dual) < 0.0, UPPER, LOWER).astype(np.int8)
        rows = np.where(np.asarray(solution.row_dual) < 0.0, UPPER, LOWER).astype(np.int8)
        basic = np.asarray(basic, dtype=np.int64)
        cols[basic[basic >= 0]] = BASIC
        rows[-basic[basic < 0] - 1] = BASIC
        col_order = np.argsort(col_keys)
        row_order = np.argsort(row_keys)
        return KeyedBasis(
            col_keys[col_order], cols[col_order], row_keys[row_order], rows[row_order]
        )

    def status_of(self, wanted: IntArray) -> Int8Array:
        """The statuses of the rows with the `wanted` keys (basic where unknown)."""
        return _lookup(self.row_keys, self.row_status, wanted, BASIC)

    def start(self, highs: Any, col_keys: IntArray, row_keys: IntArray) -> bool:
        """Give `highs` (whose columns and rows have these keys) the statuses of theirs
        here as an alien basis; False if HiGHS refused it."""
        basis = highspy.HighsBasis()
        basis.col_status = _as_statuses(_lookup(self.col_keys, self.col_status, col_keys, LOWER))
        basis.row_status = _as_statuses(_lookup(self.row_keys, self.row_status, row_keys, BASIC))
        basis.alien = True
        return bool(highs.setBasis(basis) == highspy.HighsStatus.kOk)


def among(wanted: IntArray, known: IntArray) -> npt.NDArray[np.bool_]:
    """Which `wanted` keys (any shape) are among the `known` ones, as `np.isin` says, by a
    binary search: `np.isin` sorts both sides, and there are far more wanted than known."""
    if not len(known):
        return np.zeros(np.shape(wanted), dtype=bool)
    _, found = _search(np.sort(known), wanted)
    return found


def _search(ordered: IntArray, wanted: IntArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Where each `wanted` key is in the sorted, non-empty `ordered` keys, and whether it
    is there at all."""
    index = np.minimum(np.searchsorted(ordered, wanted), len(ordered) - 1)
    return index, np.asarray(ordered[index] == wanted)


def _lookup(known: IntArray, status: Int8Array, wanted: IntArray, default: int) -> Int8Array:
    if not len(known):
        return np.full(len(wanted), default, dtype=np.int8)
    index, found = _search(known, wanted)
    found &= wanted != NO_KEY
    return np.where(found, status[index], np.int8(default)).astype(np.int8)


def _as_statuses(codes: Int8Array) -> list[Any]:
    statuses: list[Any] = _STATUSES[codes].tolist()
    return statuses
