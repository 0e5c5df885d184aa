"""The hindsight bound: one LP over the whole scenario with every session known ahead.

Maximise delivered energy subject to, at every step, every site and circuit phase limit
(after base load), the power cap, each EV's maximum and battery tail, and each session's
request. It is the linear relaxation: a connector's minimum current is not imposed, so
the result bounds from above what any strategy can deliver, with or without minimums.

With the scenario's `tapering` battery the tail is exact in the LP (an `ideal` battery has
none): above `TAPER_START_SOC` an EV's maximum falls linearly
with the energy it has taken, and a request never ends above `TARGET_SOC`, where the
taper's floor is not reached. Long scenarios are solved in chunks of one day with one
more day of look-ahead; each chunk commits its first day and carries the energy
delivered so far into the next.

Money is the second rank (`_money`): with a tariff, a second solve holds the energy of the
first (to `ENERGY_TOLERANCE`) and minimises what the site pays: the import at its price
less the export at the feed-in price (the base load net of PV may export), plus the demand
charge on the highest `demand_window_s` average import (within each solved window).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.contrib.appsi.solvers import Highs

from ems.replay.capacity import SITE_NODE
from ems.replay.engine import ev_max_current_a, ev_phases
from ems.replay.ev import TAPER_END_FACTOR, TAPER_START_SOC, arrival_soc, battery_size_wh
from ems.replay.scenario import Scenario, SessionSpec
from ems.replay.timeline import FloatArray, Timeline
from ems.replay.view import StepView
from ems.tariff import Tariff
from optimizer.persistent import HIGHS_THREADS
from optimizer.problem import Phase

DAY_S = 86_400.0
SECONDS_PER_HOUR = 3600.0
EARLIER_WEIGHT = 1e-5
"""Per-step discount that prefers delivering earlier; far below the energy term."""
ENERGY_TOLERANCE = 1e-6
"""The money solve keeps the first solve's energy to this share (the interior-point
solution is that exact)."""
MONEY_EARLIER_WEIGHT = 1e-9
"""Per step and Wh, the money solve's preference for earlier among equal costs."""
_TAPER_SLOPE = (1.0 - TAPER_END_FACTOR) / (1.0 - TAPER_START_SOC)


@dataclass(frozen=True, eq=False)
class OfflinePlan:
    """Per step and connector the allowed per-phase current, and each solve's time."""

    current_a: FloatArray
    solve_ms: tuple[float, ...]


@dataclass
class _Session:
    spec: SessionSpec
    column: int
    phases: tuple[Phase, ...]
    path: tuple[str, ...]
    max_a: float
    battery_wh: float
    first: int
    last: int
    delivered_wh: float = 0.0


def plan_offline(scenario: Scenario, timeline: Timeline) -> OfflinePlan:
    """Solve the whole scenario in hindsight (chunked per day for long scenarios)."""
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
        sessions.append(
            _Session(
                spec=spec,
                column=column_of[spec.connector],
                phases=ev_phases(connector, spec),
                path=tuple(path),
                max_a=ev_max_current_a(connector, spec, voltage_v),
                battery_wh=battery_size_wh(spec.energy_wh, spec.battery_wh),
                first=first,
                last=min(last, timeline.steps - 1),
            )
        )

    plan = np.zeros((timeline.steps, len(keys)))
    chunk = max(1, round(DAY_S / timeline.step_s))
    window = 2 * chunk
    solve_ms: list[float] = []
    begin = 0
    while begin < timeline.steps:
        end = timeline.steps if timeline.steps - begin <= window else begin + chunk
        horizon_end = min(timeline.steps, begin + window)
        active = [s for s in sessions if s.first < horizon_end and s.last >= begin]
        started = time.perf_counter()
        currents = _solve_window(scenario, timeline, active, begin, horizon_end)
        solve_ms.append((time.perf_counter() - started) * 1000.0)
        for (index, k), current_a in currents.items():
            if k < end:
                session = active[index]
                plan[k, session.column] = current_a
                session.delivered_wh += current_a * _wh_per_a(session, timeline, k, voltage_v)
        begin = end
    return OfflinePlan(plan, tuple(solve_ms))


def _wh_per_a(session: _Session, timeline: Timeline, k: int, voltage_v: float) -> float:
    """Energy one ampere per phase delivers to this session in step k."""
    seconds_left = (session.spec.departure - timeline.at(k)).total_seconds()
    seconds = min(timeline.step_s, seconds_left)
    return len(session.phases) * voltage_v * seconds / 3600.0


def _solve_window(
    scenario: Scenario,
    timeline: Timeline,
    sessions: list[_Session],
    begin: int,
    end: int,
) -> dict[tuple[int, int], float]:
    """One LP over steps [begin, end) for these sessions; returns their currents."""
    if not sessions:
        return {}
    site = scenario.site
    voltage_v = site.limits.voltage_v
    pairs = [
        (i, k)
        for i, s in enumerate(sessions)
        for k in range(max(begin, s.first), min(end, s.last + 1))
    ]
    wh_per_a = {(i, k): _wh_per_a(sessions[i], timeline, k, voltage_v) for i, k in pairs}
    m = pyo.ConcreteModel()
    m.x = pyo.Var(
        pairs, domain=pyo.NonNegativeReals, bounds=lambda _m, i, _k: (0, sessions[i].max_a)
    )
    energy = sum(wh_per_a[i, k] * m.x[i, k] for i, k in pairs)
    m.objective = pyo.Objective(
        expr=sum(
            (1.0 - EARLIER_WEIGHT * (k - begin)) * wh_per_a[i, k] * m.x[i, k] for i, k in pairs
        ),
        sense=pyo.maximize,
    )

    by_session: dict[int, list[int]] = {}
    for i, k in pairs:
        by_session.setdefault(i, []).append(k)

    m.energy = pyo.ConstraintList()
    m.taken = pyo.Var(pairs, domain=pyo.NonNegativeReals)
    """Energy a session has taken in this window before the step (Wh)."""
    m.tail = pyo.ConstraintList()
    for i, steps in by_session.items():
        s = sessions[i]
        remaining_wh = max(0.0, s.spec.energy_wh - s.delivered_wh)
        m.energy.add(sum(wh_per_a[i, k] * m.x[i, k] for k in steps) <= remaining_wh)
        soc = arrival_soc(s.spec.energy_wh, s.battery_wh) + s.delivered_wh / s.battery_wh
        if scenario.battery == "ideal" or soc + remaining_wh / s.battery_wh <= TAPER_START_SOC:
            continue
        # Above the taper start: x_k <= max_a * (1 - slope * (soc_k - start)), where soc_k
        # grows with the energy taken before step k.
        per_wh = s.max_a * _TAPER_SLOPE / s.battery_wh
        bound = s.max_a * (1.0 - _TAPER_SLOPE * (soc - TAPER_START_SOC))
        m.tail.add(m.taken[i, steps[0]] == 0.0)
        for previous, k in itertools.pairwise(steps):
            m.tail.add(
                m.taken[i, k] == m.taken[i, previous] + wh_per_a[i, previous] * m.x[i, previous]
            )
        for k in steps:
            m.tail.add(m.x[i, k] + per_wh * m.taken[i, k] <= bound)

    m.limits = pyo.ConstraintList()
    groups: dict[tuple[int, str, Phase], list[tuple[int, int]]] = {}
    for i, k in pairs:
        for node in sessions[i].path:
            for phase in sessions[i].phases:
                groups.setdefault((k, node, phase), []).append((i, k))
    circuit_limit = {c.id: c.limit_a for c in site.circuits}
    for (k, node, phase), members in groups.items():
        if node == SITE_NODE:
            rhs = max(0.0, timeline.phase_limit_a[k] - timeline.base_load_a[k, phase])
        else:
            rhs = circuit_limit[node]
        m.limits.add(sum(m.x[p] for p in members) <= rhs)
    step_pairs: dict[int, list[tuple[int, int]]] = {}
    for i, k in pairs:
        step_pairs.setdefault(k, []).append((i, k))
    for k, members in step_pairs.items():
        cap_w = timeline.power_limit_w[k]
        if np.isnan(cap_w):
            continue
        headroom_w = max(0.0, cap_w - timeline.base_load_a[k].sum() * voltage_v)
        m.limits.add(
            sum(len(sessions[i].phases) * voltage_v * m.x[i, kk] for i, kk in members) <= headroom_w
        )

    solver = Highs()
    solver.config.stream_solver = False
    # The many near-identical sessions make the LP highly degenerate; the interior-point
    # method without crossover is several times faster than simplex here, and the replay
    # only needs the currents, not a vertex.
    solver.highs_options = {"solver": "ipm", "run_crossover": "off", "threads": HIGHS_THREADS}
    solver.solve(m)
    tariff = scenario.tariff
    if not tariff.is_empty:
        delivered_wh = float(pyo.value(energy))
        m.objective.deactivate()
        m.keep_energy = pyo.Constraint(expr=energy >= delivered_wh * (1.0 - ENERGY_TOLERANCE))
        cost = _money(m, timeline, tariff, pairs, wh_per_a, voltage_v, begin, end)
        earlier = sum(
            MONEY_EARLIER_WEIGHT * (k - begin) * wh_per_a[i, k] * m.x[i, k] for i, k in pairs
        )
        m.money = pyo.Objective(expr=cost + earlier, sense=pyo.minimize)
        solver.solve(m)
    return {(i, k): max(0.0, float(m.x[i, k].value or 0.0)) for i, k in pairs}


def _money(
    m: pyo.ConcreteModel,
    timeline: Timeline,
    tariff: Tariff,
    pairs: list[tuple[int, int]],
    wh_per_a: Mapping[tuple[int, int], float],
    voltage_v: float,
    begin: int,
    end: int,
) -> Any:
    """What the site pays over steps [begin, end): import at its price less export at the
    feed-in price, plus the demand charge on the highest window average import."""
    step_h = timeline.step_s / SECONDS_PER_HOUR
    ev_wh: dict[int, Any] = {}
    for i, k in pairs:
        ev_wh[k] = ev_wh.get(k, 0.0) + wh_per_a[i, k] * m.x[i, k]
    steps = range(begin, end)
    m.import_wh = pyo.Var(steps, domain=pyo.NonNegativeReals)
    m.net = pyo.ConstraintList()
    for k in steps:
        base_wh = float(timeline.base_load_a[k].sum()) * voltage_v * step_h
        m.net.add(m.import_wh[k] >= base_wh + ev_wh.get(k, 0.0))
    cost: Any = 0.0
    export_price = tariff.export_price_per_kwh
    for k in steps:
        price = timeline.price_per_kwh[k]
        price = 0.0 if np.isnan(price) else float(price)
        base_wh = float(timeline.base_load_a[k].sum()) * voltage_v * step_h
        net_wh = base_wh + ev_wh.get(k, 0.0)
        # export = import - net; the price of the export is earned
        cost += (price * m.import_wh[k] - export_price * (m.import_wh[k] - net_wh)) / 1000.0
    if tariff.demand_price_per_kw > 0.0:
        m.peak_w = pyo.Var(domain=pyo.NonNegativeReals)
        m.peak = pyo.ConstraintList()
        for window in _windows(timeline, begin, end, tariff.demand_window_s):
            hours = len(window) * step_h
            m.peak.add(m.peak_w * hours >= sum(m.import_wh[k] for k in window))
        cost += tariff.demand_price_per_kw * m.peak_w / 1000.0
    return cost


def _windows(timeline: Timeline, begin: int, end: int, window_s: float) -> list[list[int]]:
    """The steps [begin, end) grouped by the clock-aligned demand window they start in."""
    groups: dict[int, list[int]] = {}
    for k in range(begin, end):
        groups.setdefault(int(timeline.at(k).timestamp() // window_s), []).append(k)
    return list(groups.values())


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
