"""Look-ahead to the departures: charge now what cannot be charged later.

Water-filling shares the present fairly, but it does not see capacity that is lost if it
is not used now. A small circuit whose EVs cannot all finish before they leave, or a phase
that only some 1-phase EVs draw on, is such capacity: the sessions with hours to spare can
make up later what they yield now, those on the bottleneck cannot. In the replays of the
shipped scenarios (6 A minimum) this took the controller from 4.9 % to 2.0 % below the
hindsight bound's energy on `small`, and from 2.2 % to 0.3 % on the residential garage.

One LP over the sessions that stated their need and departure, from now to the last
departure, in blocks: the step applied now, `FINE_BLOCKS` more blocks of one step, then
blocks doubling in length. In every block each row (site phase, circuit phase, power
cap) holds with its right-hand side of now; in the blocks after the first it keeps
`FUTURE_MARGIN` of it free for arrivals nobody knows of yet. A session draws at most its
maximum for the part of a block before it leaves (times `TAIL_FACTOR` after the first
block: batteries take less as they fill, and the controller cannot see when), and at
most its need in all. Sessions without a need or a departure keep their fair share in
every block.

Objective, in ranked order: the most energy by the departures; then the least deviation
from the fair shares now, `DEVIATION_WEIGHT` per phase-ampere (so a deviation must gain at
least that share of its energy in the plan to be made); then earlier rather than later.
The first block's currents are the plan for now; `admission.admit_planned` rounds them to
the minimum currents, and `replan_rounded` plans once more with that rounding fixed, so
the current rounding moves goes where the departures need it (on `small` at a 6 A
minimum, from 2.6 % to 2.0 % below the hindsight bound). Its shape changes at every step
(sessions come and go, blocks shrink), so it is built directly as a HiGHS LP rather than
through a persistent model.
"""

from __future__ import annotations

from typing import Any

import highspy
import numpy as np

from optimizer.admission import candidates
from optimizer.fairness import IntArray
from optimizer.parameters import SECONDS_PER_HOUR, BoolArray, FloatArray, Parameters
from optimizer.persistent import HIGHS, SOLVER_OPTIONS
from optimizer.problem import Lookahead

FINE_BLOCKS = 12
"""Blocks of one step after the first: the next hour at the replay's 5-minute step."""
MAX_BLOCKS = 32
"""With doubling, 32 blocks of 5 minutes reach past any stay."""
TAIL_FACTOR = 0.8
"""Share of its maximum a session is planned to draw after the first block: the mean
of a taper from full to 60 % over the last part of a charge."""
FUTURE_MARGIN = 0.2
"""Share of every row's capacity after the first block held back for unknown arrivals."""
DEVIATION_WEIGHT = 0.05
"""Planned energy (per phase-ampere of the step) a deviation from the fair shares must gain."""
EARLY_WEIGHT = 1e-3
"""Bonus for the first block over the last, far below the energy term."""
MIN_NEED_WH = 1e-6
MOVED_A = 1e-6
"""Rounding that moves no current by more than this needs no second plan."""


def plan_now(
    params: Parameters,
    rows: FloatArray,
    fair_a: FloatArray,
    lookahead: Lookahead,
    now_bounds: tuple[FloatArray, FloatArray] | None = None,
) -> FloatArray | None:
    """Each connector's current for now, (N,); None when no session is planned or the
    LP has no optimal solution (the caller keeps the fair shares). `now_bounds`, (N,)
    lower and upper, fix the range of each current now (see `replan_rounded`)."""
    now_s = lookahead.start.timestamp()
    step_s = lookahead.step_s
    sessions = np.flatnonzero(_planned(params, now_s))
    if not len(sessions):
        return None
    edges = _block_edges(now_s, step_s, float(params.departure_s[sessions].max()))
    bounds = None if now_bounds is None else (now_bounds[0][sessions], now_bounds[1][sessions])
    solution = _solve(params, rows, fair_a, sessions, edges, step_s, bounds)
    if solution is None:
        return None
    current = fair_a.copy()
    current[sessions] = solution
    return current


def replan_rounded(
    params: Parameters,
    rows: FloatArray,
    fair_a: FloatArray,
    lookahead: Lookahead,
    planned: FloatArray,
    admitted: BoolArray,
    floor_a: FloatArray,
) -> FloatArray:
    """The lower bounds now after rounding the plan to the minimum currents, planned again;
    `floor_a` is `admit_planned`'s (0 for every session it pauses).

    Rounding moves current: a session raised to its minimum takes it from those after it,
    a paused one frees what the plan gave it, and the LP that fills what is left hands
    that to whoever draws the most now. Planning again with who charges now fixed (paused
    at 0, admitted from its rounded floor up to its maximum) puts the moved current where
    the departures need it instead. Returns `floor_a` unchanged when rounding moved
    nothing or the second plan has no solution.
    """
    if not np.any(candidates(params) & (np.abs(floor_a - planned) > MOVED_A)):
        return floor_a
    upper = np.where(admitted, params.cap_a, 0.0)
    # The sessions not in the plan hold their rounded floors, not their fair shares.
    held = np.where(_planned(params, lookahead.start.timestamp()), fair_a, floor_a)
    again = plan_now(params, rows, held, lookahead, (floor_a, upper))
    if again is None:
        return floor_a
    return np.clip(again, floor_a, upper)


def _planned(params: Parameters, now_s: float) -> BoolArray:
    """Candidates that stated a need and a departure still ahead."""
    with np.errstate(invalid="ignore"):
        return (
            candidates(params)
            & np.isfinite(params.departure_s)
            & (params.departure_s > now_s)
            & np.isfinite(params.need_wh)
            & (params.need_wh > MIN_NEED_WH)
        )


def _block_edges(now_s: float, step_s: float, last_departure_s: float) -> FloatArray:
    edges = [now_s, now_s + step_s]
    length = step_s
    while edges[-1] < last_departure_s and len(edges) <= MAX_BLOCKS:
        edges.append(edges[-1] + length)
        if len(edges) > FINE_BLOCKS + 1:
            length *= 2.0
    edges[-1] = max(edges[-1], last_departure_s)
    return np.asarray(edges)


def _solve(
    params: Parameters,
    rows: FloatArray,
    fair_a: FloatArray,
    sessions: IntArray,
    edges: FloatArray,
    step_s: float,
    now_bounds: tuple[FloatArray, FloatArray] | None,
) -> FloatArray | None:
    """The first block's currents of the planned `sessions`, or None."""
    blocks = len(edges) - 1
    m = len(sessions)
    length = np.diff(edges)
    phases = params.phase_count[sessions]
    cap = params.cap_a[sessions]
    present_part = np.clip(
        (params.departure_s[sessions][None, :] - edges[:-1, None]) / length[:, None], 0.0, 1.0
    )
    upper = present_part * cap[None, :] * TAIL_FACTOR
    upper[0] = cap
    need = params.need_wh[sessions] * SECONDS_PER_HOUR / params.voltage_v

    others = np.ones(len(fair_a), dtype=bool)
    others[sessions] = False
    # einsum, not `@`: see the note on BLAS threads in `assemble`
    free = params.row_rhs[0] - np.einsum("kn,n->k", rows[:, others], fair_a[others])
    members = rows[:, sessions]
    row_members = [
        (k, np.flatnonzero(members[k] > 0.0)) for k in range(len(free)) if (members[k] > 0.0).any()
    ]

    n_current = blocks * m
    earliness = 1.0 + EARLY_WEIGHT * (blocks - np.arange(blocks)) / blocks
    deviation = DEVIATION_WEIGHT * step_s * phases
    cost = np.concatenate(
        [(-(length * earliness)[:, None] * phases[None, :]).ravel(), deviation, deviation]
    )
    col_upper = np.concatenate([upper.ravel(), np.full(2 * m, highspy.kHighsInf)])
    col_lower = np.zeros(len(col_upper))
    if now_bounds is not None:
        col_lower[:m] = np.minimum(now_bounds[0], cap)
        col_upper[:m] = np.clip(now_bounds[1], col_lower[:m], cap)

    builder = _Rows()
    for block in range(blocks):
        share = 1.0 if block == 0 else 1.0 - FUTURE_MARGIN
        for k, cols in row_members:
            builder.add(block * m + cols, members[k, cols], max(free[k], 0.0) * share)
    blocks_of = np.arange(blocks) * m
    for j in range(m):
        builder.add(blocks_of + j, length * phases[j], need[j])
    for j in range(m):
        index = np.asarray([j, n_current + j, n_current + m + j])
        builder.add(index, np.asarray([1.0, -1.0, 1.0]), fair_a[sessions[j]], fair_a[sessions[j]])

    highs = HIGHS()
    for name, option in SOLVER_OPTIONS.items():
        highs.setOptionValue(name, option)
    n_cols = len(cost)
    highs.addVars(n_cols, col_lower, col_upper)
    highs.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), cost)
    builder.pass_to(highs)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    values: FloatArray = np.asarray(highs.getSolution().col_value[:m], dtype=np.float64)
    return np.minimum(np.maximum(values, 0.0), cap)


class _Rows:
    """Rows of the LP in HiGHS's row-wise sparse form."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.index: list[IntArray] = []
        self.value: list[FloatArray] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self._count = 0

    def add(self, index: IntArray, value: FloatArray, upper: float, lower: float = -np.inf) -> None:
        self.starts.append(self._count)
        self.index.append(np.asarray(index, dtype=np.int32))
        self.value.append(np.asarray(value, dtype=np.float64))
        self.lower.append(lower)
        self.upper.append(upper)
        self._count += len(index)

    def pass_to(self, highs: Any) -> None:
        lower = np.maximum(np.asarray(self.lower), -highspy.kHighsInf)
        highs.addRows(
            len(self.starts),
            lower,
            np.asarray(self.upper),
            self._count,
            np.asarray(self.starts, dtype=np.int32),
            np.concatenate(self.index),
            np.concatenate(self.value),
        )
