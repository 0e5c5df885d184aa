"""Hand-written fakes for driving the controller core: solvers, a site, a clock."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ems.phases import spread
from ems.site import ChargerConfig, ConnectorConfig, SiteConfig
from optimizer.allocation import (
    Allocation,
    ConnectorAllocation,
    ConnectorState,
    PauseReason,
    SolveStatus,
)
from optimizer.problem import Circuit, Connector, Phase, Problem, SiteLimits

L1, L2, L3 = Phase.L1, Phase.L2, Phase.L3
THREE = (L1, L2, L3)
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


@dataclass
class Clock:
    """A fake clock: plain datetimes advanced by hand."""

    now: datetime = T0

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def connector(
    charger_id: str,
    connector_id: int = 1,
    phases: tuple[Phase, ...] = THREE,
    max_a: float = 32.0,
    min_a: float = 6.0,
    circuit: str | None = None,
    priority: float = 1.0,
) -> ConnectorConfig:
    return ConnectorConfig(charger_id, connector_id, phases, max_a, min_a, circuit, priority)


def site(
    *connectors: ConnectorConfig,
    limit_a: float = 63.0,
    worst_a: tuple[float, float, float] = (10.0, 10.0, 10.0),
    circuits: tuple[Circuit, ...] = (),
    power_limit_w: float | None = None,
    fallback_a: Mapping[str, float] | None = None,
    behind_meter: bool = True,
) -> SiteConfig:
    by_charger: dict[str, list[ConnectorConfig]] = {}
    for c in connectors:
        by_charger.setdefault(c.charger_id, []).append(c)
    fallbacks = fallback_a or {}
    chargers = tuple(
        ChargerConfig(cid, tuple(cs), behind_meter, fallbacks.get(cid))
        for cid, cs in by_charger.items()
    )
    return SiteConfig(
        name="test",
        limits=SiteLimits(limit_a, power_limit_w),
        chargers=chargers,
        circuits=circuits,
        worst_base_load_a=worst_a,
    )


def _allocation(
    problem: Problem, currents: Mapping[str, float], status: SolveStatus, binding: tuple[str, ...]
) -> Allocation:
    steps = problem.horizon.steps if problem.horizon is not None else 1
    voltage = problem.site.voltage_v
    rows = []
    site_current = list(problem.base_load_a)
    for c in problem.connectors:
        amps = currents.get(c.id, 0.0) if c.ev_present else 0.0
        if not c.ev_present:
            state, reason = ConnectorState.IDLE, None
        elif amps > 0:
            state, reason = ConnectorState.CHARGING, None
        else:
            state, reason = ConnectorState.PAUSED, PauseReason.INSUFFICIENT_CAPACITY
        per_phase = spread(c.active_phases, amps)
        for p in Phase:
            site_current[p] += per_phase[p]
        power = amps * voltage * len(c.active_phases)
        rows.append(
            ConnectorAllocation(
                c.id, (amps,) * steps, (per_phase,) * steps, (power,) * steps, state, reason
            )
        )
    triple = (site_current[0], site_current[1], site_current[2])
    return Allocation(status, tuple(rows), binding, 0.1, (triple,) * steps)


@dataclass
class ScriptedSolver:
    """Returns the currents a test sets, whatever the problem; records every problem."""

    currents: dict[str, float] = field(default_factory=dict)
    binding: tuple[str, ...] = ()
    status: SolveStatus = SolveStatus.OPTIMAL
    problems: list[Problem] = field(default_factory=list)

    def solve(self, problem: Problem) -> Allocation:
        self.problems.append(problem)
        return _allocation(problem, self.currents, self.status, self.binding)


@dataclass
class FairShareSolver:
    """A small correct allocator: equal shares by progressive filling under every limit,
    pausing the lowest priority (then latest arrival) while minimums do not fit."""

    problems: list[Problem] = field(default_factory=list)

    def solve(self, problem: Problem) -> Allocation:
        self.problems.append(problem)
        groups = _groups(problem)
        if any(room < -1e-9 for _, room, _ in groups):
            return _allocation(problem, {}, SolveStatus.FALLBACK_INFEASIBLE, ())
        candidates = [
            c for c in problem.connectors if c.ev_present and _upper(c) >= c.min_current_a
        ]
        while True:
            currents, binding = _fill(candidates, groups)
            short = [c for c in candidates if currents[c.id] < c.min_current_a - 1e-9]
            if not short:
                return _allocation(problem, currents, SolveStatus.OPTIMAL, binding)
            loser = min(short, key=lambda c: (c.priority, -problem_start(c)))
            candidates.remove(loser)


def problem_start(c: Connector) -> float:
    return 0.0 if c.arrival is None else c.arrival.timestamp()


def _upper(c: Connector) -> float:
    ev = c.ev_max_current_a if c.ev_max_current_a is not None else math.inf
    return min(c.max_current_a, ev)


_Group = tuple[str, float, dict[str, float]]


def _groups(problem: Problem) -> list[_Group]:
    parents = {c.id: c.parent for c in problem.circuits}
    present = [c for c in problem.connectors if c.ev_present]
    groups: list[_Group] = []
    for p in Phase:
        members = {c.id: 1.0 for c in present if p in c.active_phases}
        groups.append(
            (f"site-{p.name}", problem.site.phase_limit_a - problem.base_load_a[p], members)
        )
    for circuit in problem.circuits:
        below = []
        for c in present:
            node = c.circuit
            while node is not None and node != circuit.id:
                node = parents.get(node)
            if node == circuit.id:
                below.append(c)
        for p in Phase:
            members = {c.id: 1.0 for c in below if p in c.active_phases}
            groups.append((f"circuit-{circuit.id}-{p.name}", circuit.limit_a, members))
    if problem.site.power_limit_w is not None:
        v = problem.site.voltage_v
        room = problem.site.power_limit_w - sum(problem.base_load_a) * v
        groups.append(("site-power", room, {c.id: v * len(c.active_phases) for c in present}))
    return groups


def _fill(
    candidates: list[Connector], groups: list[_Group]
) -> tuple[dict[str, float], tuple[str, ...]]:
    current = {c.id: 0.0 for c in candidates}
    free = {c.id for c in candidates}
    upper = {c.id: _upper(c) for c in candidates}
    binding: list[str] = []
    while free:
        level = min(upper[k] for k in free)
        tight: str | None = None
        for name, room, weights in groups:
            active = [k for k in weights if k in free]
            if not active:
                continue
            used = sum(current[k] * w for k, w in weights.items() if k in current and k not in free)
            share = max(room - used, 0.0) / sum(weights[k] for k in active)
            if share < level:
                level, tight = share, name
        if tight is None:
            done = {k for k in free if upper[k] <= level + 1e-12}
            binding.extend(f"connector-{k}-max" for k in done)
        else:
            weights = next(w for n, _, w in groups if n == tight)
            done = {k for k in free if k in weights}
            binding.append(tight)
        for k in free:
            current[k] = level
        free -= done
    return current, tuple(binding)
