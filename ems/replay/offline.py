"""The hindsight bound of a replay: the scenario as `optimizer.offline` problems, one per
window, and their plan played back.

Every session is known ahead: when it is plugged in, what it needs, its EV's maximum and
its battery tail, and every site and circuit phase limit (after base load) and the power
cap. `plan_offline` solves the LP relaxation by default: a connector's minimum current is
not imposed, so the result bounds from above what any strategy can deliver, with or
without minimums. With `MipOptions` it solves the MIP of the minimums instead: a session
draws 0 or at least the lower of its minimum and the least its tapered EV draws, except
in the step its need is met in (see `optimizer.offline.model`); that bound is an energy
bound only, so it neither prefers earlier energy nor ranks money.

With the scenario's `tapering` battery the tail is exact in the LP (an `ideal` battery has
none): above `TAPER_START_SOC` an EV's maximum falls linearly with the energy it has
taken, and a request never ends above `TARGET_SOC`, where the taper's floor is not
reached. Long scenarios are solved in windows of two days, each committing its first day
and carrying the energy delivered so far into the next; the bound is then that of each
window given the days before it, no longer one over the whole scenario.

Money is the second rank of the LP plan: with a tariff, a second solve holds the energy of
the first and minimises what the site pays: the import at its price less the export at
the feed-in price (the base load net of PV may export), plus the demand charge on the
highest `demand_window_s` average import (within each solved window).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ems.replay.capacity import SITE_NODE
from ems.replay.engine import ev_max_current_a, ev_phases
from ems.replay.ev import (
    TAPER_END_FACTOR,
    TAPER_START_SOC,
    arrival_soc,
    battery_size_wh,
    taper_factor,
)
from ems.replay.scenario import Scenario, SessionSpec
from ems.replay.timeline import FloatArray, Timeline
from ems.replay.view import StepView
from optimizer.offline import (
    MipOptions,
    OfflineMoney,
    OfflineProblem,
    OfflineSession,
    Tail,
    solve_offline,
)
from optimizer.problem import Phase

DAY_S = 86_400.0
SECONDS_PER_HOUR = 3600.0
EARLIER_WEIGHT = 1e-5
"""Per-step discount that prefers delivering earlier; far below the energy term."""
_TAPER_SLOPE = (1.0 - TAPER_END_FACTOR) / (1.0 - TAPER_START_SOC)


@dataclass(frozen=True, eq=False)
class OfflinePlan:
    """Per step and connector the allowed per-phase current, each window's solve time, the
    energy the plan delivers and the bound on it (summed over the windows), and the
    solver's status of each window."""

    current_a: FloatArray
    solve_ms: tuple[float, ...]
    energy_wh: float
    bound_wh: float
    statuses: tuple[str, ...]


@dataclass
class _Session:
    spec: SessionSpec
    column: int
    phases: tuple[Phase, ...]
    path: tuple[str, ...]
    max_a: float
    min_a: float
    battery_wh: float
    first: int
    last: int
    delivered_wh: float = 0.0


def plan_offline(
    scenario: Scenario, timeline: Timeline, mip: MipOptions | None = None
) -> OfflinePlan:
    """Solve the whole scenario in hindsight (in windows for long scenarios): the LP
    relaxation, or with `mip` the MIP of the minimum currents."""
    site = scenario.site
    voltage_v = site.limits.voltage_v
    keys = [c.key for c in site.connectors()]
    column_of = {key: i for i, key in enumerate(keys)}
    connectors = scenario.connectors_by_key()
    parents = {c.id: c.parent for c in site.circuits}
    sessions: list[_Session] = []
    for spec in scenario.sessions:
        connector = connectors[spec.connector]
        first = timeline.step_of(spec.arrival)
        last = timeline.step_of(spec.departure) - 1
        if last < first:
            continue
        path = [SITE_NODE]
        circuit = connector.circuit
        while circuit is not None:
            path.append(circuit)
            circuit = parents.get(circuit)
        max_a = ev_max_current_a(connector, spec, voltage_v)
        battery_wh = battery_size_wh(spec.energy_wh, spec.battery_wh)
        sessions.append(
            _Session(
                spec=spec,
                column=column_of[spec.connector],
                phases=ev_phases(connector, spec),
                path=tuple(path),
                max_a=max_a,
                min_a=_least_draw_a(connector.min_current_a, max_a, spec, battery_wh, scenario),
                battery_wh=battery_wh,
                first=first,
                last=min(last, timeline.steps - 1),
            )
        )

    plan = np.zeros((timeline.steps, len(keys)))
    chunk = max(1, round(DAY_S / timeline.step_s))
    window = 2 * chunk
    solve_ms: list[float] = []
    statuses: list[str] = []
    energy_wh = bound_wh = 0.0
    begin = 0
    while begin < timeline.steps:
        end = timeline.steps if timeline.steps - begin <= window else begin + chunk
        horizon_end = min(timeline.steps, begin + window)
        active = [s for s in sessions if s.first < horizon_end and s.last >= begin]
        started = time.perf_counter()
        problem = _problem(scenario, timeline, active, begin, horizon_end, mip)
        solution = solve_offline(problem, mip)
        solve_ms.append((time.perf_counter() - started) * 1000.0)
        statuses.append(solution.status)
        bound_wh += solution.bound_wh - solution.energy_wh
        for session, offered, current_a in zip(
            active, problem.sessions, solution.current_a, strict=True
        ):
            for j, a in enumerate(current_a.tolist()):
                k = begin + offered.first + j
                if k < end:
                    plan[k, session.column] = a
                    delivered = a * offered.wh_per_a[j]
                    session.delivered_wh += delivered
                    energy_wh += delivered
        begin = end
    return OfflinePlan(plan, tuple(solve_ms), energy_wh, energy_wh + bound_wh, tuple(statuses))


def _least_draw_a(
    minimum_a: float, max_a: float, spec: SessionSpec, battery_wh: float, scenario: Scenario
) -> float:
    """The least a session draws in a step it is given at least its minimum: the minimum,
    or less where its EV's maximum, tapered as the battery fills, falls below it (at the
    state of charge its request ends at, the lowest it reaches)."""
    floor_a = max_a
    if scenario.battery != "ideal":
        final_soc = arrival_soc(spec.energy_wh, battery_wh) + spec.energy_wh / battery_wh
        floor_a = max_a * taper_factor(final_soc)
    return max(0.0, min(minimum_a, floor_a))


def _wh_per_a(session: _Session, timeline: Timeline, k: int, voltage_v: float) -> float:
    """Energy one ampere per phase delivers to this session in step k."""
    seconds_left = (session.spec.departure - timeline.at(k)).total_seconds()
    seconds = min(timeline.step_s, seconds_left)
    return len(session.phases) * voltage_v * seconds / 3600.0


def _problem(
    scenario: Scenario,
    timeline: Timeline,
    sessions: list[_Session],
    begin: int,
    end: int,
    mip: MipOptions | None,
) -> OfflineProblem:
    """The window [begin, end) as an `OfflineProblem` over these sessions."""
    site = scenario.site
    voltage_v = site.limits.voltage_v
    rows: dict[tuple[str, Phase], int] = {}
    offered: list[OfflineSession] = []
    for s in sessions:
        first, stop = max(begin, s.first), min(end, s.last + 1)
        remaining_wh = max(0.0, s.spec.energy_wh - s.delivered_wh)
        soc = arrival_soc(s.spec.energy_wh, s.battery_wh) + s.delivered_wh / s.battery_wh
        tail = None
        if scenario.battery != "ideal" and soc + remaining_wh / s.battery_wh > TAPER_START_SOC:
            # x_k <= max_a * (1 - slope * (soc_k - start)), soc_k growing with the energy
            # taken before step k
            tail = Tail(
                start_a=s.max_a * (1.0 - _TAPER_SLOPE * (soc - TAPER_START_SOC)),
                a_per_wh=s.max_a * _TAPER_SLOPE / s.battery_wh,
            )
        offered.append(
            OfflineSession(
                first=first - begin,
                wh_per_a=np.array(
                    [_wh_per_a(s, timeline, k, voltage_v) for k in range(first, stop)]
                ),
                max_a=s.max_a,
                min_a=s.min_a,
                need_wh=remaining_wh,
                rows=tuple(rows.setdefault((n, p), len(rows)) for n in s.path for p in s.phases),
                phase_count=len(s.phases),
                tail=tail,
            )
        )
    circuit_limit = {c.id: c.limit_a for c in site.circuits}
    row_limit = np.zeros((len(rows), end - begin))
    for (node, phase), r in rows.items():
        if node == SITE_NODE:
            headroom = timeline.phase_limit_a[begin:end] - timeline.base_load_a[begin:end, phase]
            row_limit[r] = np.maximum(0.0, headroom)
        else:
            row_limit[r] = circuit_limit[node]
    base_w = timeline.base_load_a[begin:end].sum(axis=1) * voltage_v
    power = np.maximum(0.0, timeline.power_limit_w[begin:end] - base_w)
    return OfflineProblem(
        steps=end - begin,
        sessions=tuple(offered),
        row_limit_a=row_limit,
        power_headroom_w=power,
        voltage_v=voltage_v,
        earlier_weight=EARLIER_WEIGHT if mip is None else 0.0,
        money=_money(scenario, timeline, begin, end) if mip is None else None,
    )


def _money(scenario: Scenario, timeline: Timeline, begin: int, end: int) -> OfflineMoney | None:
    """What the site pays over steps [begin, end), or None without a tariff."""
    tariff = scenario.tariff
    if tariff.is_empty:
        return None
    step_h = timeline.step_s / SECONDS_PER_HOUR
    voltage_v = scenario.site.limits.voltage_v
    windows: dict[int, list[int]] = {}
    if tariff.demand_price_per_kw > 0.0:
        for k in range(begin, end):
            moment = int(timeline.at(k).timestamp() // tariff.demand_window_s)
            windows.setdefault(moment, []).append(k - begin)
    return OfflineMoney(
        price_per_kwh=np.nan_to_num(timeline.price_per_kwh[begin:end], nan=0.0),
        export_price_per_kwh=tariff.export_price_per_kwh,
        base_wh=timeline.base_load_a[begin:end].sum(axis=1) * voltage_v * step_h,
        demand_price_per_kw=tariff.demand_price_per_kw,
        demand_windows=tuple(tuple(w) for w in windows.values()),
        step_h=step_h,
    )


class ScheduleStrategy:
    """Plays back a precomputed plan (the offline bound)."""

    def __init__(self, scenario: Scenario, current_a: FloatArray) -> None:
        self._columns = {c.key: i for i, c in enumerate(scenario.site.connectors())}
        self._current_a = current_a

    def decide(self, view: StepView) -> Mapping[str, float]:
        row = self._current_a[view.index]
        return {
            ev.connector.key: float(row[self._columns[ev.connector.key]]) for ev in view.plugged
        }
