"""The hindsight problem of one window and its solution, as plain numbers.

A window is `steps` steps in which every session is known ahead: when it can charge,
what one ampere gives it in each of those steps, its maximum and minimum, its need, the
limit rows it draws on and, above its taper start, its battery tail. No Pyomo and no
scenario types: `ems.replay.offline` turns a scenario into these numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.parameters import FloatArray


@dataclass(frozen=True, eq=False)
class Tail:
    """A battery tail: in every step, current + `a_per_wh` × energy taken before the step
    (in this window) ≤ `start_a`: the maximum falls linearly with the energy taken."""

    start_a: float
    a_per_wh: float


@dataclass(frozen=True, eq=False)
class OfflineSession:
    """One session in the window.

    It can charge in steps `first` .. `first + len(wh_per_a) - 1`, where one ampere per
    phase gives it `wh_per_a[j]` Wh (less in a step it leaves during). `min_a` is the
    least it draws in a step it charges in, unless its need is met in that step (the EV
    stops when full, so its last step may be drawn in part); 0 allows any current.
    `rows` are the limit rows it draws on (one per phase per node), `phase_count` the
    phases it draws on (for the power cap).
    """

    first: int
    wh_per_a: FloatArray
    max_a: float
    min_a: float
    need_wh: float
    rows: tuple[int, ...]
    phase_count: int
    tail: Tail | None = None


@dataclass(frozen=True, eq=False)
class OfflineMoney:
    """What the site pays over the window, per step: the import price (per kWh) of the
    base load net of PV (`base_wh`, negative while it exports) plus the sessions' energy,
    less the feed-in price for what it exports, plus the demand charge (per kW) on the
    highest average import over each group of steps in `demand_windows`."""

    price_per_kwh: FloatArray
    export_price_per_kwh: float
    base_wh: FloatArray
    demand_price_per_kw: float
    demand_windows: tuple[tuple[int, ...], ...]
    step_h: float


@dataclass(frozen=True, eq=False)
class OfflineProblem:
    """Maximise the sessions' energy over `steps` steps.

    `row_limit_a[r, k]` is the per-phase current left for the sessions on limit row r at
    step k (a site or circuit phase, after base load); `power_headroom_w[k]` the total
    power left under the site's power cap (NaN: no cap); `earlier_weight` the per-step
    discount that prefers energy earlier (0: energy only); `money`, when given, ranks
    what the site pays second.
    """

    steps: int
    sessions: tuple[OfflineSession, ...]
    row_limit_a: FloatArray
    power_headroom_w: FloatArray
    voltage_v: float
    earlier_weight: float = 0.0
    money: OfflineMoney | None = None


@dataclass(frozen=True)
class MipOptions:
    """Solve the minimum currents exactly (a MIP): stop at `rel_gap` between the best plan
    found and the bound, or after `time_limit_s`."""

    time_limit_s: float = 60.0
    rel_gap: float = 0.01


@dataclass(frozen=True, eq=False)
class OfflineSolution:
    """Per session its currents over its steps (A per phase); the energy they deliver; and
    `bound_wh`, what no plan of the problem can exceed: for the LP, its optimum; for the
    MIP, from its dual bound, so `bound_wh - energy_wh` is the gap left open."""

    current_a: tuple[FloatArray, ...]
    energy_wh: float
    bound_wh: float
    status: str
