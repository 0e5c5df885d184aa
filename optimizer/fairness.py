"""Weighted max-min fair shares by progressive filling (water-filling), per step.

Every sharing connector c draws x_c = clip(w_c · z, lb_c, ub_c) for a water level z. The
level rises until a row (a site phase, a circuit phase, the power cap) is full; the
connectors in that row are frozen where they are, and the level keeps rising for the
others. A connector whose own maximum is below the level stops at its maximum and does
not hold the others back. The result is the leximin allocation of the weighted shares
x_c / w_c: no share can grow without shrinking a share that is already smaller.

Rows fill in rounds, many at once. In a round every row r gets its fill level z_r: the
highest level at which it still fits while its free members rise (frozen members stay
put). Freezing a connector only lowers the load of its rows, so a row's level can only
go up from round to round. A row whose level is not above the level of any row it shares
a free connector with therefore fills at exactly z_r in the one-row-at-a-time order too:
none of its members can be frozen earlier. All such rows fill in the same round. Rows on
different circuits fill together; a round is needed per layer of overlap (the phases of
one circuit sharing three-phase connectors, a circuit and its parent), not per row.

A row's load is non-decreasing and piecewise linear in z, with breakpoints where a
connector leaves its lower bound (lb_c / w_c) or reaches its upper bound (ub_c / w_c).
Each row's level is found from the last breakpoint at which the row fits (its load at
every breakpoint, or a binary search over them for large problems); between it and the
next one its load is linear, so the level is exact. Rows are kept sparse, as (row,
connector, coefficient) entries, since each connector sits in only a few rows; the
entries of a row matrix are worked out once and kept (`_matrix_of`). Steps where every
upper bound fits, and rows that never fill even with every connector at its upper bound,
take no part in the rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from optimizer.parameters import BoolArray, FloatArray

IntArray = np.ndarray[Any, np.dtype[np.intp]]

SATURATION_TOLERANCE = 1e-9
EVERY_BREAKPOINT_MAX = 1 << 15
"""Up to this many loads (steps × breakpoints × entries) a row's fill level is found
from its load at every breakpoint at once, above by bisection: the few array operations
on a few thousand numbers cost less than a bisection's dozen per halving, which the
larger horizons need to bound their memory. Both find the same breakpoint, since the
computed load is non-decreasing in the level (every entry's clipped load is, and a sum of
non-decreasing terms is, rounding included)."""


@dataclass(frozen=True)
class _Entries:
    """The non-zero coefficients of the rows, ordered by row (and also indexed by connector)."""

    row: IntArray
    conn: IntArray
    coef: FloatArray
    row_start: IntArray
    """(K,) first entry of each row (every row has at least one entry)."""
    by_conn: IntArray
    """Permutation that orders the entries by connector."""
    conn_start: IntArray
    """First entry (in `by_conn` order) of each connector listed in `conns`."""
    conns: IntArray
    """Connectors that sit in at least one row."""


def _entries(row: IntArray, conn: IntArray, coef: FloatArray) -> _Entries:
    """Entries from (row, connector, coefficient) sorted by row, rows numbered 0, 1, ..."""
    by_conn = np.argsort(conn, kind="stable")
    conn_sorted = conn[by_conn]
    conn_start = np.flatnonzero(_changes(conn_sorted))
    return _Entries(
        row=row,
        conn=conn,
        coef=coef,
        row_start=np.flatnonzero(_changes(row)),
        by_conn=by_conn,
        conn_start=conn_start,
        conns=conn_sorted[conn_start],
    )


def _changes(ids: np.ndarray[Any, Any]) -> BoolArray:
    """Where sorted values (non-negative ids, breakpoints) change: at the first, and
    wherever one differs from the one before it (as `np.diff(ids, prepend=-1) != 0` on
    ids, at a fraction of its cost)."""
    changed = np.empty(len(ids), dtype=bool)
    changed[:1] = True
    np.not_equal(ids[1:], ids[:-1], out=changed[1:])
    return changed


def _sorted_unique(values: FloatArray) -> FloatArray:
    """The distinct values, sorted (as `np.unique`, without its overhead; no NaN here)."""
    values.sort()
    return values[_changes(values)]


def _rows_kept(entries: _Entries, keep: BoolArray) -> _Entries:
    """The entries of the rows where `keep` (K,) holds, renumbered."""
    kept = keep[entries.row]
    number = np.cumsum(keep) - 1
    return _entries(number[entries.row[kept]], entries.conn[kept], entries.coef[kept])


def _row_sum(values: FloatArray, entries: _Entries) -> FloatArray:
    return np.asarray(np.add.reduceat(values, entries.row_start, axis=1))


def _row_min(values: FloatArray, entries: _Entries) -> FloatArray:
    return np.asarray(np.minimum.reduceat(values, entries.row_start, axis=1))


def _connector_min(values: FloatArray, entries: _Entries, n: int) -> FloatArray:
    """(S, N) minimum over each connector's entries of `values` (S, E); inf if it has none."""
    result = np.full((values.shape[0], n), np.inf)
    if len(entries.conns):
        by_conn = values[:, entries.by_conn]
        result[:, entries.conns] = np.minimum.reduceat(by_conn, entries.conn_start, axis=1)
    return result


@dataclass(frozen=True)
class _Round:
    """The steps still filling, seen per entry: load_e(z) = clip(slope_e z, lo_e, hi_e).

    Bounds and slope are already multiplied by the entry's coefficient.
    """

    slope_per_level: FloatArray
    """(E,) coefficient × weight of the entry's connector."""
    lo: FloatArray
    """(S, E) coefficient × lower bound of a free connector, × its frozen value otherwise."""
    hi: FloatArray
    start: FloatArray
    """(S, E) lb / w of a free connector (it rises from there), inf if frozen."""
    stop: FloatArray
    """(S, E) ub / w of a free connector (it stops rising there), inf if frozen."""

    def load(self, level: FloatArray, entries: _Entries) -> FloatArray:
        """(S, K) every row's load when its free members stand at its `level` (S, K)."""
        at = level[:, entries.row] * self.slope_per_level
        np.maximum(at, self.lo, out=at)
        np.minimum(at, self.hi, out=at)
        return _row_sum(at, entries)

    def slope(self, level: FloatArray, entries: _Entries) -> FloatArray:
        """(S, K) rate at which each row's load grows just above its `level` (S, K)."""
        z = level[:, entries.row]
        rising = (self.start <= z) & (z < self.stop)
        return _row_sum(rising * self.slope_per_level, entries)


def _fill_levels(
    filling: _Round, entries: _Entries, rhs: FloatArray, breakpoints: FloatArray
) -> FloatArray:
    """(S, K) per row, the level at which it fills; inf if it never does."""
    count = len(breakpoints)
    top = _row_sum(filling.hi, entries)
    open_ = top > rhs
    if rhs.shape[0] * count * len(entries.row) <= EVERY_BREAKPOINT_MAX:
        fits = _fitting(filling, entries, rhs, breakpoints)
        lo = np.where(open_, fits - 1, -1)
        hi = np.where(open_, fits, count)
    else:
        lo, hi = _bisect(filling, entries, rhs, breakpoints, open_)
    z_lo = np.where(lo >= 0, breakpoints[_within(lo, count)], 0.0)
    z_hi = np.where(hi < count, breakpoints[_within(hi, count)], np.inf)
    slope = filling.slope(z_lo, entries)
    headroom = np.maximum(rhs - filling.load(z_lo, entries), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(slope > 0.0, headroom / slope, np.inf)
    level = np.minimum(z_lo + ratio, z_hi)
    return np.where(top > rhs, level, np.inf)


def _fitting(
    filling: _Round, entries: _Entries, rhs: FloatArray, breakpoints: FloatArray
) -> IntArray:
    """(S, K) per row, at how many breakpoints it fits: every row's load at every
    breakpoint at once."""
    at = (breakpoints[:, None] * filling.slope_per_level)[None, :, :]
    at = np.maximum(at, filling.lo[:, None, :])
    np.minimum(at, filling.hi[:, None, :], out=at)
    load = np.add.reduceat(at, entries.row_start, axis=2)
    return np.asarray((load <= rhs[:, None, :]).sum(axis=1))


def _bisect(
    filling: _Round, entries: _Entries, rhs: FloatArray, breakpoints: FloatArray, open_: BoolArray
) -> tuple[IntArray, IntArray]:
    """(S, K) per row, the last breakpoint at which it fits and the next (-1 and the count
    where `open_` is False), by bisection."""
    count = len(breakpoints)
    lo = np.full(rhs.shape, -1)
    hi = np.full(rhs.shape, count)
    open_ = open_.copy()
    while open_.any():
        mid = (lo + hi) // 2
        ok = filling.load(breakpoints[_within(mid, count)], entries) <= rhs
        lo = np.where(open_ & ok, mid, lo)
        hi = np.where(open_ & ~ok, mid, hi)
        open_ &= hi - lo > 1
    return lo, hi


def _within(index: IntArray, count: int) -> IntArray:
    """`index` clipped to 0 .. count - 1 (`np.clip` costs several times as much on the
    small arrays of a bisection step)."""
    return np.minimum(np.maximum(index, 0), count - 1)


def _freeze_levels(
    level: FloatArray, free: BoolArray, entries: _Entries, n: int
) -> tuple[FloatArray, FloatArray]:
    """Per connector (S, N): the lowest fill level of its rows, and the level it freezes at.

    `level` (S, K) is each row's fill level, `free` (S, E) marks entries of free
    connectors. A row fills in this round when its level is not above (up to the
    tolerance) the level of any row it shares a free connector with; a connector freezes
    at the lowest level of its rows that fill, inf if none does.
    """
    first = _connector_min(np.where(free, level[:, entries.row], np.inf), entries, n)
    neighbours = _row_min(np.where(free, first[:, entries.conn], np.inf), entries)
    fills = np.isfinite(level) & (
        level <= neighbours * (1.0 + SATURATION_TOLERANCE) + SATURATION_TOLERANCE
    )
    filled_at = np.where(fills, level, np.inf)[:, entries.row]
    return first, _connector_min(np.where(free, filled_at, np.inf), entries, n)


@dataclass(frozen=True)
class _Matrix:
    """The non-zero entries of a row matrix, ordered by row, rows without one left out."""

    key: tuple[tuple[int, ...], bytes]
    """The matrix's shape and bytes, which `_kept_entries` finds it again by."""
    entries: _Entries
    template_row: IntArray
    """(K',) the matrix row of each entries row."""


ENTRIES_KEPT = 64
"""Matrices (and their subsets of rows) whose entries are kept. A site's row matrix changes
only with its connectors' phases, so from step to step the same few come back."""


@lru_cache(maxsize=ENTRIES_KEPT)
def _matrix_of(shape: tuple[int, ...], data: bytes) -> _Matrix:
    rows = np.frombuffer(data, dtype=np.float64).reshape(shape)
    row, conn = np.nonzero(rows > 0.0)
    numbered = np.cumsum(_changes(row)) - 1
    entries = _entries(numbered, conn, rows[row, conn])
    return _Matrix((shape, data), entries, row[entries.row_start])


@lru_cache(maxsize=ENTRIES_KEPT)
def _kept_entries(key: tuple[tuple[int, ...], bytes], keep: bytes) -> _Entries:
    """The entries of the rows `keep` (a bool per entries row, as bytes) marks."""
    entries = _matrix_of(*key).entries
    kept = np.frombuffer(keep, dtype=bool)
    return entries if kept.all() else _rows_kept(entries, kept)


def fair_shares(
    rows: FloatArray, rhs: FloatArray, lb: FloatArray, ub: FloatArray, weight: FloatArray
) -> FloatArray:
    """Leximin weighted shares per step.

    rows (K, N) coefficients, rhs (T, K), lb and ub (T, N) per-connector bounds with
    `rows @ lb[t] <= rhs[t]`, weight (N,) positive. Returns x (T, N) with lb <= x <= ub and
    `rows @ x[t] <= rhs[t]` (up to rounding).
    """
    ub = np.maximum(ub, lb)
    n = rows.shape[1]
    matrix = _matrix_of(rows.shape, np.ascontiguousarray(rows, dtype=np.float64).tobytes())
    entries = matrix.entries
    rhs = rhs[:, matrix.template_row]
    over: BoolArray = _row_sum(ub[:, entries.conn] * entries.coef, entries) > rhs
    unlimited = np.logical_not(over.any(axis=1))
    x = np.where(unlimited[:, None], ub, lb)
    free = (ub > lb) & ~unlimited[:, None]
    if not free.any():
        return x
    can_fill = np.asarray(over[~unlimited].any(axis=0))
    entries = _kept_entries(matrix.key, can_fill.tobytes())
    rhs = rhs[:, can_fill]
    while free.any():
        steps = np.asarray(free.any(axis=1)).nonzero()[0]
        low, high, open_, frozen = lb[steps], ub[steps], free[steps], x[steps]
        starts, stops = low / weight, high / weight
        filling = _Round(
            slope_per_level=weight[entries.conn] * entries.coef,
            lo=np.where(open_, low, frozen)[:, entries.conn] * entries.coef,
            hi=np.where(open_, high, frozen)[:, entries.conn] * entries.coef,
            start=np.where(open_, starts, np.inf)[:, entries.conn],
            stop=np.where(open_, stops, np.inf)[:, entries.conn],
        )
        breakpoints = _sorted_unique(np.concatenate([starts[open_], stops[open_]]))
        level = _fill_levels(filling, entries, rhs[steps], breakpoints)
        first, frozen_at = _freeze_levels(level, open_[:, entries.conn], entries, n)

        blocked = np.isfinite(frozen_at)
        done = open_ & (blocked | (stops <= first))
        if not done.any():
            break  # only on numerical trouble: the free connectors keep their lower bound
        value = np.where(blocked, np.minimum(np.maximum(frozen_at * weight, low), high), high)
        x[steps] = np.where(done, value, frozen)
        free[steps] = open_ & ~done
    return x
