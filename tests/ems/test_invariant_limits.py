"""Invariant 1: what the controller allows plus the measured base load never exceeds the site
or any circuit limit on any phase — over random sites, sessions, meter readings, outages,
refused profiles and non-compliant chargers."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ems.commands import SetLimit
from ems.events import ConnectorStatus, StatusChanged
from ems.site import ConnectorConfig, ControlSettings, SiteConfig
from ems.solver_port import AllocationSolver
from ems.view import ControllerView
from optimizer.problem import Circuit, Phase
from tests.ems.fakes import L1, L2, L3, FairShareSolver, connector, site
from tests.ems.harness import Harness

WIRINGS = [(L1, L2, L3), (L2, L3, L1), (L3, L1, L2), (L1,), (L2,), (L3,)]


@st.composite
def sites(draw: st.DrawFn) -> SiteConfig:
    limit = draw(st.integers(16, 63))
    worst = tuple(draw(st.integers(0, limit // 2)) for _ in range(3))
    circuits: list[Circuit] = []
    for i in range(draw(st.integers(0, 3))):
        parent = draw(st.sampled_from([None, *(c.id for c in circuits)]))
        circuits.append(Circuit(f"c{i}", draw(st.integers(6, limit)), parent))
    connectors: list[ConnectorConfig] = []
    for charger in range(draw(st.integers(1, 5))):
        for number in range(1, draw(st.integers(1, 2)) + 1):
            max_a = draw(st.integers(6, 32))
            connectors.append(
                connector(
                    f"cp{charger}",
                    number,
                    phases=draw(st.sampled_from(WIRINGS)),
                    max_a=max_a,
                    min_a=draw(st.sampled_from([0.0, 6.0])),
                    circuit=draw(st.sampled_from([None, *(c.id for c in circuits)])),
                    priority=draw(st.sampled_from([1.0, 2.0])),
                )
            )
    power = draw(st.sampled_from([None, limit * 230 * 2.0]))
    return site(
        *connectors,
        limit_a=limit,
        worst_a=(float(worst[0]), float(worst[1]), float(worst[2])),
        circuits=tuple(circuits),
        power_limit_w=power,
        behind_meter=draw(st.booleans()),
    )


@dataclass
class Ev:
    max_a: float
    one_phase: bool
    ignores_limits: bool
    tx: str | None

    def phases(self, wiring: tuple[Phase, ...]) -> tuple[Phase, ...]:
        return wiring[:1] if self.one_phase else wiring


def draw_of(ev: Ev, limit_a: float) -> float:
    return ev.max_a if ev.ignores_limits else min(limit_a, ev.max_a)


def loads_by_kind(
    s: SiteConfig, view: ControllerView, evs: dict[str, Ev]
) -> tuple[list[Load], list[Load]]:
    """Per connector with an EV, its allowance on the EV's own phases: those the controller
    steers, and the others (offline, uncontrolled, plugged in without a session)."""
    steered: list[Load] = []
    others: list[Load] = []
    by_key = {c.key: c for c in s.connectors()}
    for cv in view.connectors:
        ev = evs.get(cv.key)
        if ev is None:
            continue
        config = by_key[cv.key]
        amps = [0.0, 0.0, 0.0]
        for phase in ev.phases(config.phases):
            amps[phase] = cv.limit_a
        (steered if cv.state in ("charging", "paused") else others).append((config, amps))
    return steered, others


Load = tuple[ConnectorConfig, list[float]]


def broken_limits(s: SiteConfig, base: list[float], loads: list[Load]) -> list[str]:
    site_total = list(base)
    for _, amps in loads:
        for p in range(3):
            site_total[p] += amps[p]
    broken = [f"site-{p}" for p in range(3) if site_total[p] > s.limits.phase_limit_a + 1e-6]
    power_limit = s.limits.power_limit_w
    if power_limit is not None and sum(site_total) * s.limits.voltage_v > power_limit + 1e-3:
        broken.append("site-power")
    parents = {c.id: c.parent for c in s.circuits}
    for circuit in s.circuits:
        total = [0.0, 0.0, 0.0]
        for config, amps in loads:
            node = config.circuit
            while node is not None and node != circuit.id:
                node = parents[node]
            if node == circuit.id:
                for p in range(3):
                    total[p] += amps[p]
        if max(total) > circuit.limit_a + 1e-6:
            broken.append(f"circuit-{circuit.id}")
    return broken


ACTIONS = [
    "arrive",
    "arrive",
    "arrive",
    "leave",
    "plug",
    "offline",
    "online",
    "reject",
    "bad_meter",
    "silent",
]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(s=sites(), data=st.data())
def test_allowed_plus_base_load_never_exceeds_a_limit(s: SiteConfig, data: st.DataObject) -> None:
    run_invariant_scenario(s, data, FairShareSolver())


def run_invariant_scenario(s: SiteConfig, data: st.DataObject, solver: AllocationSolver) -> None:
    """Drive the controller through random events with simulated EVs and a simulated meter,
    checking invariant 1 after every tick."""
    control = ControlSettings(
        period_s=10,
        meter_stale_s=10,
        min_update_interval_s=data.draw(st.sampled_from([0.0, 60.0])),
        pause_dwell_s=data.draw(st.sampled_from([0.0, 120.0])),
        noncompliance_after_s=20,
        taper_detect_s=20,
    )
    h = Harness(s, control, solver)
    keys = [c.key for c in s.connectors()]
    wiring = {c.key: c.phases for c in s.connectors()}
    evs: dict[str, Ev] = {}
    offline: set[str] = set()
    last_commands: list[SetLimit] = []
    tx_counter = 0
    measured: list[float] | None = None
    """The base load in the last good reading the controller received."""
    planned_with = [0.0, 0.0, 0.0]
    """The measured base load when the controller last planned: the invariant is kept
    against what it measured, not against a change it has not seen yet."""
    for _ in range(data.draw(st.integers(1, 15))):
        h.advance(data.draw(st.sampled_from([1, 5, 10, 30, 120])))
        meter_ok, meter_silent = True, False
        for action in data.draw(st.lists(st.sampled_from(ACTIONS), max_size=4)):
            key = data.draw(st.sampled_from(keys))
            charger_id, number = key.split("/")
            cid = int(number)
            if action == "arrive" and key not in evs:
                tx_counter += 1
                evs[key] = Ev(
                    max_a=data.draw(st.sampled_from([6.0, 10.0, 16.0, 32.0])),
                    one_phase=data.draw(st.booleans()),
                    ignores_limits=data.draw(st.booleans()) and data.draw(st.booleans()),
                    tx=f"T{tx_counter}",
                )
                h.start(charger_id, f"T{tx_counter}", cid)
            elif action == "plug" and key not in evs:
                evs[key] = Ev(16.0, False, False, None)
                h.send(StatusChanged(charger_id, cid, ConnectorStatus.PREPARING, h.clock.now))
            elif action == "leave" and key in evs:
                ev = evs.pop(key)
                if ev.tx is not None:
                    h.end(charger_id, ev.tx, cid)
                else:
                    h.send(StatusChanged(charger_id, cid, ConnectorStatus.AVAILABLE, h.clock.now))
            elif action == "offline":
                offline.add(charger_id)
                h.disconnect(charger_id)
            elif action == "online" and charger_id in offline:
                offline.discard(charger_id)
                h.connect(charger_id)
            elif action == "reject" and last_commands:
                command = data.draw(st.sampled_from(last_commands))
                last_commands = h.answer(command, accepted=False)
            elif action == "bad_meter":
                meter_ok = False
            elif action == "silent":
                meter_silent = True
        worst = s.worst_base_load_a
        base = [data.draw(st.floats(0, worst[p], allow_nan=False)) for p in range(3)]
        view = h.controller.view()
        meter = list(base)
        by_key = {cv.key: cv for cv in view.connectors}
        for key, ev in evs.items():
            amps = draw_of(ev, by_key[key].limit_a)
            ev_phases = ev.phases(wiring[key])
            if s.chargers[0].behind_meter:
                for phase in ev_phases:
                    meter[phase] += amps
            charger_id, number = key.split("/")
            if charger_id not in offline:
                sample = [0.0 if i < len(wiring[key]) else None for i in range(3)]
                for i in range(len(ev_phases)):
                    sample[i] = amps
                h.sample(charger_id, (sample[0], sample[1], sample[2]), int(number))
        if not meter_silent:
            h.meter((meter[0], meter[1], meter[2]), valid=meter_ok)
            if meter_ok:
                measured = base
        last_commands = h.tick() or last_commands
        view = h.controller.view()
        if view.at == h.clock.now:
            planned_with = measured if measured is not None else base
        steered, others = loads_by_kind(s, view, evs)
        if broken_limits(s, planned_with, others):
            # what we do not steer breaks a limit alone: every steered session is paused
            assert all(max(amps) == 0 for _, amps in steered)
        else:
            assert broken_limits(s, planned_with, steered + others) == []
