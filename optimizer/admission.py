"""Who charges now and who is paused: the semi-continuous minimum, decided by a rule.

A present EV gets 0 A or at least its minimum current, never in between. Instead of
binaries in a MIP, the choice is made up front by a stated rule, and the LP then gets
lower bound = minimum for admitted sessions and upper bound 0 for paused ones.

The rule, applied to the step applied now:

1. no EV → idle; energy need already met → paused `ENERGY_MET`; the lower of the EV's
   and the connector's maximum below the minimum → paused `EV_LIMIT_BELOW_MIN`;
2. the other sessions are ranked by priority weight (highest first), then least laxity
   (latest time at which full-power charging still meets the need before departure,
   earliest first; sessions without departure come after those with one), then earliest
   departure, then earliest arrival, then connector id;
3. in that order each session is admitted if its minimum, added to the minimums already
   admitted, fits every phase of the site (after base load), every phase of every
   circuit on its path and the site power cap; otherwise it is paused
   `INSUFFICIENT_CAPACITY`. A session that does not fit does not block later ones that do
   (a small circuit being full does not pause an EV on another circuit).

With a look-ahead, the plan decides instead for the sessions it plans (see
`optimizer.lookahead`), and `admission_of` records its choice.

Because every row has non-negative coefficients, whatever the admitted set is, giving
each admitted session exactly its minimum is feasible: the LP that follows always has a
solution when base load alone fits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.allocation import PauseReason
from optimizer.parameters import BoolArray, FloatArray, Parameters

FIT_TOLERANCE_A = 1e-9


@dataclass(frozen=True)
class Admission:
    admitted: BoolArray
    """(N,) the session charges at least its minimum now."""
    reasons: tuple[PauseReason | None, ...]
    """Per connector, why a present EV gets 0 A now (None if admitted or idle)."""


def admission_order(params: Parameters, ids: tuple[str, ...], eligible: BoolArray) -> list[int]:
    """Indices of candidate connectors, best first, by the documented rule."""
    id_rank = np.argsort(np.argsort(np.asarray(ids, dtype=object)))
    order = np.lexsort(
        (id_rank, params.arrival_s, params.departure_s, params.latest_start_s, -params.weight)
    )
    return [int(c) for c in order if eligible[c]]


def admit(params: Parameters, ids: tuple[str, ...], rows: FloatArray, rhs: FloatArray) -> Admission:
    """Apply the rule against `rows` (K, N) and the first step's right-hand side `rhs` (K,)."""
    eligible = candidates(params)
    minimums = np.where(eligible, params.min_a, 0.0)
    admitted = eligible.copy()
    # einsum, not `@`: see the note on BLAS threads in `assemble`
    if (np.einsum("kn,n->k", rows, minimums) > rhs + FIT_TOLERANCE_A).any():
        admitted[:] = False
        for c in _fitting(rows, minimums, rhs, admission_order(params, ids, eligible)):
            admitted[c] = True
    return Admission(admitted=admitted, reasons=_reasons(params, admitted))


def _fitting(
    rows: FloatArray, minimums: FloatArray, rhs: FloatArray, order: list[int]
) -> list[int]:
    """The connectors of `order` admitted one after the other while their minimums fit.

    In Python floats (the same doubles, the same sums as numpy's on the few rows): numpy's
    per-call cost dominates on arrays this small."""
    columns = rows.T.tolist()
    room = (rhs + FIT_TOLERANCE_A).tolist()
    load = [0.0] * len(room)
    fitting = []
    for c in order:
        minimum = float(minimums[c])
        added = [was + coef * minimum for was, coef in zip(load, columns[c], strict=True)]
        if all(a <= r for a, r in zip(added, room, strict=True)):
            fitting.append(c)
            load = added
    return fitting


def admission_of(params: Parameters, admitted: BoolArray) -> Admission:
    """The admission of a set decided elsewhere (the look-ahead's plan), with its reasons."""
    return Admission(admitted=admitted, reasons=_reasons(params, admitted))


def candidates(params: Parameters) -> BoolArray:
    """Present sessions whose need is not met and whose maximum reaches their minimum."""
    return params.present & ~params.need_met & (params.cap_a >= params.min_a)


_MET = PauseReason.ENERGY_MET
_BELOW_MIN = PauseReason.EV_LIMIT_BELOW_MIN
_NO_ROOM = PauseReason.INSUFFICIENT_CAPACITY


def _reasons(params: Parameters, admitted: BoolArray) -> tuple[PauseReason | None, ...]:
    """Per connector, why a present EV is paused (None if admitted or idle)."""
    return tuple(
        None
        if not present or charges
        else _MET
        if met
        else _BELOW_MIN
        if cap < minimum
        else _NO_ROOM
        for present, charges, met, cap, minimum in zip(
            params.present.tolist(),
            admitted.tolist(),
            params.need_met.tolist(),
            params.cap_a.tolist(),
            params.min_a.tolist(),
            strict=True,
        )
    )
