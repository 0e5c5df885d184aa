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
    if np.any(np.einsum("kn,n->k", rows, minimums) > rhs + FIT_TOLERANCE_A):
        admitted[:] = False
        load = np.zeros_like(rhs)
        for c in admission_order(params, ids, eligible):
            column = rows[:, c] * minimums[c]
            if np.all(load + column <= rhs + FIT_TOLERANCE_A):
                admitted[c] = True
                load += column
    return Admission(admitted=admitted, reasons=_reasons(params, admitted))


def admission_of(params: Parameters, admitted: BoolArray) -> Admission:
    """The admission of a set decided elsewhere (the look-ahead's plan), with its reasons."""
    return Admission(admitted=admitted, reasons=_reasons(params, admitted))


def candidates(params: Parameters) -> BoolArray:
    """Present sessions whose need is not met and whose maximum reaches their minimum."""
    return params.present & ~params.need_met & (params.cap_a >= params.min_a)


def _reasons(params: Parameters, admitted: BoolArray) -> tuple[PauseReason | None, ...]:
    """Per connector, why a present EV is paused (None if admitted or idle)."""
    reasons: list[PauseReason | None] = []
    for c in range(len(admitted)):
        if not params.present[c] or admitted[c]:
            reasons.append(None)
        elif params.need_met[c]:
            reasons.append(PauseReason.ENERGY_MET)
        elif params.cap_a[c] < params.min_a[c]:
            reasons.append(PauseReason.EV_LIMIT_BELOW_MIN)
        else:
            reasons.append(PauseReason.INSUFFICIENT_CAPACITY)
    return tuple(reasons)
