"""Invariant 1: what every connector may draw as far as the controller can prove (its
bound: the profiles its charger accepted) plus the measured base load never exceeds the
site or any circuit limit on any phase, even as EVs arrive at idle connectors and draw
their default profile before the next step — over random sites, sessions, meter readings,
outages, refused profiles, non-compliant chargers and changes of the site limit.

The chargers here accept every profile at once and their EVs follow at once
(`reaction_s` 0); what a lowering that is not yet accepted or followed means is proven in
`test_bound_model`.

"Measured base load" is everything on the meter that is not within an allowance of ours:
the building's load, and what a charger draws beyond what it is allowed (that excess is
load the controller does not steer). Chargers report their samples at their own pace, so
a sample may be older than the meter reading it is taken off; a new EV may take a
connector whose last sample described the EV before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import Phase as Stage
from hypothesis import strategies as st

from ems.bounds import MEASURED, NON_COMPLIANT_BEFORE
from ems.commands import SetLimit
from ems.events import (
    ConnectorStatus,
    SessionEnded,
    SessionStarted,
    SiteLimitChanged,
    StatusChanged,
)
from ems.meter_watch import Mode
from ems.site import ConnectorConfig, ControlSettings, SiteConfig
from ems.solver_port import AllocationSolver
from ems.view import ConnectorView, ControllerView
from optimizer.allocation import Allocation
from optimizer.problem import Circuit, Phase, Problem
from tests.ems.fakes import L1, L2, L3, THREE, FairShareSolver, connector, site
from tests.ems.harness import Harness, two_sessions_at_their_share

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
    plans, and the others (offline, uncontrolled, plugged in without a session, on
    probation: counted at their maximum whatever they are sent)."""
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
            amps[phase] = counted_a(cv)
        planned = cv.state in ("charging", "paused") and cv.bound_source != NON_COMPLIANT_BEFORE
        (steered if planned else others).append((config, amps))
    return steered, others


Load = tuple[ConnectorConfig, list[float]]


def counted_a(cv: ConnectorView) -> float:
    """The connector's bound, less a measured excess over the limit it was set: that
    excess is in the measured base load already (see `measured_base`). A limit above the
    draw it was measured at leaves no excess there: the draw counts then."""
    return min(cv.limit_a, cv.bound_a) if cv.bound_source == MEASURED else cv.bound_a


ARRIVING_EV_MAX_A = 32.0
"""The largest EV of the scenarios: an arrival draws min(its default profile, this)."""


def arrivals(h: Harness, evs: dict[str, Ev]) -> list[Load]:
    """An EV arriving at every idle connector before the next step, drawing what the
    connector's default profile allows on every wired phase — nothing where that is
    below the connector's minimum, since an EV cannot start there."""
    loads: list[Load] = []
    bounds = {cv.key: cv.bound_a for cv in h.controller.view(h.clock.now).connectors}
    for config in h.site.connectors():
        if config.key in evs:
            continue
        amps = min(bounds[config.key], ARRIVING_EV_MAX_A)
        if amps < config.min_current_a:
            continue
        loads.append((config, [amps if p in config.phases else 0.0 for p in Phase]))
    return loads


def broken_limits(
    s: SiteConfig,
    base: list[float],
    loads: list[Load],
    limit_a: float | None = None,
    power_base: list[float] | None = None,
) -> list[str]:
    """The limits broken by `loads` on top of `base` (`power_base` under the power cap if
    given); the site under `limit_a` if given."""
    phase_limit = s.limits.phase_limit_a if limit_a is None else limit_a
    ours = [sum(amps[p] for _, amps in loads) for p in range(3)]
    site_total = [base[p] + ours[p] for p in range(3)]
    broken = [f"site-{p}" for p in range(3) if site_total[p] > phase_limit + 1e-6]
    power_limit = s.limits.power_limit_w
    power_total = sum(ours) + sum(base if power_base is None else power_base)
    if power_limit is not None and power_total * s.limits.voltage_v > power_limit + 1e-3:
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


EV_MAX_A = st.sampled_from([6.0, 10.0, 16.0, 32.0])
SMALL_EV_MAX_A = st.sampled_from([6.0, 10.0])
"""A swapped-in EV draws little, so the last EV's sample would overstate what it draws."""

ACTIONS = [
    "arrive",
    "arrive",
    "arrive",
    "leave",
    "swap",
    "plug",
    "offline",
    "online",
    "reject",
    "bad_meter",
    "silent",
    "limit",
]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same examples on every run: CI is not where a new one is hunted
    # no explain phase: it traces every line of a failing example, minutes on this model
    phases=(Stage.explicit, Stage.reuse, Stage.generate, Stage.shrink),
)
@given(s=sites(), data=st.data())
def test_allowed_plus_base_load_never_exceeds_a_limit(s: SiteConfig, data: st.DataObject) -> None:
    run_invariant_scenario(s, data, FairShareSolver())


@dataclass
class CountingSolver:
    """Counts the allocations asked for, to tell when the controller planned."""

    inner: AllocationSolver
    solves: int = 0

    def solve(self, problem: Problem) -> Allocation:
        self.solves += 1
        return self.inner.solve(problem)


def planning_mark(h: Harness, counted: CountingSolver) -> tuple[datetime | None, int]:
    """Changes when the controller runs a control step. (Elsewhere the view is asked as of
    the clock's now: without it, it shows the bounds as of the last step.)"""
    return h.controller.view().at, counted.solves


@dataclass(frozen=True)
class Reading:
    """A good meter reading: the base load in it, what each EV drew then (on which site
    phases), and what each connector was allowed once the samples were in."""

    base: list[float]
    drawn: dict[str, tuple[float, tuple[Phase, ...]]]
    allowed: dict[str, float]


def measured_base(h: Harness, reading: Reading | None) -> list[float] | None:
    """The base load of the last good reading, with what chargers drew beyond their
    allowances then; a charger flagged non-compliant since is counted at its maximum when
    the controller plans, so its excess is no longer base load."""
    if reading is None:
        return None
    flagged = {
        cv.key: cv.bound_a for cv in h.controller.view(h.clock.now).connectors if cv.non_compliant
    }
    measured = list(reading.base)
    for key, (amps, phases) in reading.drawn.items():
        allowance = max(reading.allowed[key], flagged.get(key, 0.0))
        for phase in phases:
            measured[phase] += max(amps - allowance, 0.0)
    return measured


def planning_base(h: Harness, measured: list[float] | None) -> list[float]:
    """The base load the controller has just planned with: the measured one, or in
    conservative mode the worst configured one (it cannot see then an excess the meter
    shows)."""
    if h.controller.view().mode is Mode.NORMAL and measured is not None:
        return measured
    return list(h.site.worst_base_load_a)


def raised_phases(
    commands: list[SetLimit],
    bounds: dict[str, float],
    bounds_after: dict[str, float],
    evs: dict[str, Ev],
    wiring: dict[str, tuple[Phase, ...]],
) -> set[Phase]:
    """The site phases of the connectors that `commands` let draw more than their bound
    before them (an EV's own phases where one is plugged in). A default profile above a
    session's profile in force is no raise: the session profile governs the session."""
    phases: set[Phase] = set()
    for command in commands:
        key = f"{command.charger_id}/{command.connector_id}"
        above = max(p.limit_a for p in command.periods) > bounds[key] + 1e-9
        if above and bounds_after[key] > bounds[key] + 1e-9:
            ev = evs.get(key)
            phases.update(wiring[key] if ev is None else ev.phases(wiring[key]))
    return phases


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
        reaction_s=0.0,
    )
    counted = CountingSolver(solver)
    h = Harness(s, control, counted)
    keys = [c.key for c in s.connectors()]
    charger_ids = sorted({c.charger_id for c in s.connectors()})
    wiring = {c.key: c.phases for c in s.connectors()}
    behind_meter = s.chargers[0].behind_meter
    evs: dict[str, Ev] = {}
    offline: set[str] = set()
    last_commands: list[SetLimit] = []
    tx_counter = 0
    limit_a = s.limits.phase_limit_a
    """The site limit in force."""
    reading: Reading | None = None
    """The last good reading the controller received."""
    planned_with = [0.0, 0.0, 0.0]
    power_with = planned_with
    """The base load the site power cap was last checked against (a raise checks the whole
    cap against the newest reading)."""
    """The measured base load when the controller last planned: the invariant is kept
    against what it measured, not against a change it has not seen yet."""

    def arrive(key: str, max_a: st.SearchStrategy[float] = EV_MAX_A) -> None:
        nonlocal tx_counter
        tx_counter += 1
        evs[key] = Ev(
            max_a=data.draw(max_a),
            one_phase=data.draw(st.booleans()),
            ignores_limits=data.draw(st.booleans()) and data.draw(st.booleans()),
            tx=f"T{tx_counter}",
        )
        charger_id, number = key.split("/")
        h.start(charger_id, f"T{tx_counter}", int(number))

    def leave(key: str) -> None:
        ev = evs.pop(key)
        charger_id, number = key.split("/")
        if ev.tx is not None:
            h.end(charger_id, ev.tx, int(number))
        else:
            h.send(StatusChanged(charger_id, int(number), ConnectorStatus.AVAILABLE, h.clock.now))

    for _ in range(data.draw(st.integers(1, 15))):
        h.advance(data.draw(st.sampled_from([1, 5, 10, 30, 120])))
        meter_ok, meter_silent = True, False
        swapped: set[str] = set()
        for action in data.draw(st.lists(st.sampled_from(ACTIONS), max_size=4)):
            key = data.draw(st.sampled_from(keys))
            charger_id, number = key.split("/")
            cid = int(number)
            if action == "arrive" and key not in evs:
                arrive(key)
            elif action == "swap" and key in evs:
                # one EV unplugs and the next plugs in before the charger reports again
                leave(key)
                arrive(key, SMALL_EV_MAX_A)
                swapped.add(charger_id)
            elif action == "plug" and key not in evs:
                evs[key] = Ev(16.0, False, False, None)
                h.send(StatusChanged(charger_id, cid, ConnectorStatus.PREPARING, h.clock.now))
            elif action == "leave" and key in evs:
                leave(key)
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
            elif action == "limit":
                wanted = data.draw(st.integers(0, int(s.limits.phase_limit_a) + 5))
                before = planning_mark(h, counted)
                h.send(SiteLimitChanged(h.clock.now, float(wanted), reason="test"))
                limit_a = min(float(wanted), s.limits.phase_limit_a)
                if planning_mark(h, counted) != before:  # a lowering plans at once
                    planned_with = power_with = planning_base(h, measured_base(h, reading))
        worst = s.worst_base_load_a
        base = [data.draw(st.floats(0, worst[p], allow_nan=False)) for p in range(3)]
        reporting = {
            c
            for c in charger_ids
            if c not in offline and c not in swapped and data.draw(st.booleans())
        }
        view = h.controller.view(h.clock.now)
        meter = list(base)
        by_key = {cv.key: cv for cv in view.connectors}
        drawn: dict[str, float] = {}
        for key, ev in evs.items():
            amps = drawn[key] = draw_of(ev, by_key[key].bound_a)
            ev_phases = ev.phases(wiring[key])
            if behind_meter:
                for phase in ev_phases:
                    meter[phase] += amps
            charger_id, number = key.split("/")
            if charger_id in reporting:
                sample = [0.0 if i < len(wiring[key]) else None for i in range(3)]
                for i in range(len(ev_phases)):
                    sample[i] = amps
                h.sample(charger_id, (sample[0], sample[1], sample[2]), int(number))
        if not meter_silent:
            h.meter((meter[0], meter[1], meter[2]), valid=meter_ok)
            if meter_ok:
                # the allowance in force once the samples are in (a charger a sample shows
                # non-compliant is allowed its maximum from then on)
                allowed = {cv.key: cv.limit_a for cv in h.controller.view().connectors}
                draws = {k: (a, evs[k].phases(wiring[k])) for k, a in drawn.items()}
                reading = Reading(list(base), draws if behind_meter else {}, allowed)
        before = planning_mark(h, counted)
        bounds_before = {cv.key: cv.bound_a for cv in h.controller.view(h.clock.now).connectors}
        commands = h.tick()
        last_commands = commands or last_commands
        view = h.controller.view(h.clock.now)
        assert view.site_limit_a == limit_a
        bounds_after = {cv.key: cv.bound_a for cv in view.connectors}
        raised = raised_phases(commands, bounds_before, bounds_after, evs, wiring)
        if planning_mark(h, counted) == before and raised:
            # a raise held by an earlier step (or a default raise) went out on its own,
            # checked on its phases against the newest reading, not the step's
            newest = planning_base(h, measured_base(h, reading))
            planned_with = [newest[p] if p in raised else planned_with[p] for p in range(3)]
            power_with = newest
        elif planning_mark(h, counted) != before:
            planned_with = power_with = planning_base(h, measured_base(h, reading))
            if view.mode is Mode.NORMAL:
                # The base load it planned with covers what it measured: no draw of ours
                # is taken off the meter that the meter does not hold.
                assert all(view.base_load_a[p] >= planned_with[p] - 1e-6 for p in range(3)), (
                    view.base_load_a,
                    planned_with,
                )
        steered, others = loads_by_kind(s, view, evs)
        others += arrivals(h, evs)
        if broken_limits(s, planned_with, others, limit_a, power_with):
            # what we do not plan breaks a limit alone: every planned session is paused
            assert all(
                cv.limit_a == 0
                for cv in view.connectors
                if cv.state == "charging" and cv.bound_source != NON_COMPLIANT_BEFORE
            )
        else:
            assert broken_limits(s, planned_with, steered + others, limit_a, power_with) == []


def allowed_on_ev_phases(h: Harness, phases: dict[str, tuple[Phase, ...]]) -> list[Load]:
    by_key = {c.key: c for c in h.site.connectors()}
    loads: list[Load] = []
    for key, ev_phases in phases.items():
        amps = [0.0, 0.0, 0.0]
        for phase in ev_phases:
            amps[phase] = h.limit_of(key)
        loads.append((by_key[key], amps))
    return loads


def test_what_an_over_drawing_charger_draws_beyond_its_allowance_is_base_load() -> None:
    h = two_sessions_at_their_share()
    s = h.site
    h.advance(10)
    h.sample("a", (32, 32, 32))  # ignores its 11 A
    h.sample("b", (11, 11, 11))
    h.meter((10 + 32 + 11,) * 3)
    h.tick()
    excess = 32 - 11
    base = [10.0 + excess] * 3
    assert broken_limits(s, base, allowed_on_ev_phases(h, {"a/1": THREE, "b/1": THREE})) == []


@pytest.mark.parametrize("next_ev", ["new transaction", "plugged in without one"])
def test_the_next_ev_on_a_connector_is_not_taken_for_the_last_ones_sample(next_ev: str) -> None:
    h = two_sessions_at_their_share()
    s = h.site
    h.advance(10)
    now = h.clock.now
    if next_ev == "new transaction":  # the charger reports no status in between
        h.send(SessionEnded("a", 1, "T1", now))
        h.send(SessionStarted("a", 1, "T3", now))
    else:  # an EV without a session, sampled at its fallback, makes way for another
        h.end("a", "T1")
        h.send(StatusChanged("a", 1, ConnectorStatus.PREPARING, now))
        h.sample("a", (h.limit_of("a/1"),) * 3)
        h.advance(1)
        now = h.clock.now
        h.send(StatusChanged("a", 1, ConnectorStatus.AVAILABLE, now))
        h.send(StatusChanged("a", 1, ConnectorStatus.PREPARING, now))
    # the next EV draws 6 A; the charger has not reported it yet
    h.sample("b", (11, 11, 11))
    h.meter((10 + 6 + 11,) * 3)
    h.tick()
    loads = allowed_on_ev_phases(h, {"a/1": THREE, "b/1": THREE})
    assert broken_limits(s, [10.0] * 3, loads) == []
