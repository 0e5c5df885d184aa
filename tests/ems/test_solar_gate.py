"""Surplus hysteresis of `solar` sessions, with times: a session starts only after the
surplus paid its minimum for the enable delay, and stops only after it fell short for the
disable delay, holding its minimum meanwhile; a break restarts the count."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ems.events import MeterReading, Tick
from ems.modes import apply_modes, paid_solar
from ems.site import ChargingMode, ControlSettings
from ems.solar_gate import SolarGate, step_gate, step_gates
from optimizer.problem import Connector, Phase
from tests.ems.fakes import FairShareSolver, connector, site
from tests.ems.harness import Harness, tx_limits

T0 = datetime(2026, 6, 1, 11, 0, tzinfo=UTC)
ENABLE_S, DISABLE_S = 60.0, 180.0
THREE = (Phase.L1, Phase.L2, Phase.L3)
W_AT_6_A = 6 * 3 * 230.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def run(gate: SolarGate, steps: list[tuple[float, bool]]) -> list[bool]:
    """Whether the gate is open after each (time, surplus paid) step."""
    opened: list[bool] = []
    for seconds, paid in steps:
        gate = step_gate(gate, paid, at(seconds), ENABLE_S, DISABLE_S)
        opened.append(gate.open)
    return opened


def test_a_session_starts_once_the_surplus_paid_its_minimum_for_the_enable_delay() -> None:
    assert run(SolarGate(), [(0, True), (30, True), (59, True), (60, True)]) == [
        False,
        False,
        False,
        True,
    ]


def test_a_cloud_restarts_the_enable_count() -> None:
    steps = [(0, True), (50, False), (60, True), (110, True), (120, True)]
    assert run(SolarGate(), steps) == [False, False, False, False, True]


def test_a_charging_session_stops_only_after_the_disable_delay() -> None:
    steps = [(0, False), (120, False), (179, False), (180, False)]
    assert run(SolarGate(open=True), steps) == [True, True, True, False]


def test_a_passing_cloud_does_not_stop_it() -> None:
    steps = [(0, False), (100, True), (110, False), (280, False), (290, False)]
    assert run(SolarGate(open=True), steps) == [True, True, True, True, False]


def test_gates_are_kept_for_solar_sessions_only_and_new_ones_start_closed() -> None:
    gates = {"a/1": SolarGate(open=True), "gone/1": SolarGate(open=True)}
    stepped = step_gates(gates, ["a/1", "b/1"], {"a/1", "b/1"}, T0, ENABLE_S, DISABLE_S)
    assert stepped == {"a/1": SolarGate(open=True), "b/1": SolarGate(False, T0)}


def test_zero_delays_follow_the_surplus_at_once() -> None:
    assert step_gate(SolarGate(), True, T0, 0.0, 0.0) == SolarGate(open=True)
    assert step_gate(SolarGate(open=True), False, T0, 0.0, 0.0) == SolarGate()


def _ev(cid: str, priority: float = 1.0) -> Connector:
    return Connector(
        id=cid, phases=THREE, max_current_a=16.0, ev_present=True, priority=priority, arrival=T0
    )


def test_an_open_gate_holds_the_minimum_and_a_closed_one_waits() -> None:
    modes = {"a": ChargingMode.SOLAR, "b": ChargingMode.SOLAR}
    evs = (_ev("a", priority=2.0), _ev("b"))
    # no surplus: a is open (within its disable delay) and keeps 6 A; b is closed
    out = {c.id: c for c in apply_modes(evs, modes, 0.0, 230.0, open_solar={"a"})}
    assert out["a"].ev_max_current_a == 6.0
    assert out["b"].ev_max_current_a == 0.0
    # a surplus for both: the closed one still waits, the open one takes what it can
    out = {c.id: c for c in apply_modes(evs, modes, 3 * W_AT_6_A, 230.0, open_solar={"a"})}
    assert out["a"].ev_max_current_a == pytest.approx(16.0)
    assert out["b"].ev_max_current_a == 0.0


def test_the_gates_step_with_what_the_surplus_would_pay_ungated() -> None:
    modes = {"a": ChargingMode.SOLAR, "b": ChargingMode.SOLAR, "c": ChargingMode.MIN_SOLAR}
    evs = (_ev("a", priority=2.0), _ev("b"), _ev("c"))
    # the min+solar session takes its minimum first; what is left pays for one more
    assert paid_solar(evs, modes, 2.5 * W_AT_6_A, 230.0) == {"a"}


def test_the_controller_rides_out_a_cloud_and_waits_for_a_steady_sun() -> None:
    """A solar charger, stepped every 10 s: the sun comes (5 kW export), a cloud passes
    for 60 s, then the sun goes for good. What the controller lets the EV draw follows
    the gate, not every reading."""
    base = site(connector("a"), limit_a=63, worst_a=(5, 5, 5))
    solar = replace(base, chargers=(replace(base.chargers[0], mode=ChargingMode.SOLAR),))
    settings = ControlSettings(
        period_s=10, pause_dwell_s=0, solar_enable_delay_s=60, solar_disable_delay_s=180
    )
    solver = FairShareSolver()
    h = Harness(solar, settings, solver)
    h.start("a", "T1")
    allowed: list[float] = []
    # (seconds, net import W): sun from 0 s, a cloud from 120 s to 180 s, gone from 300 s
    for second in range(0, 600, 10):
        cloudy = 120 <= second < 180 or second >= 300
        net_w = 500.0 if cloudy else -5000.0
        h.send(MeterReading("main", h.clock.now, True, (5.0, 5.0, 5.0), total_power_w=net_w))
        h.send(Tick(h.clock.now))
        (a,) = solver.problems[-1].connectors
        allowed.append(a.ev_max_current_a or 0.0)
        h.advance(10)

    by_second = dict(zip(range(0, 600, 10), allowed, strict=True))
    assert all(by_second[s] == 0.0 for s in range(0, 60, 10))  # waits for a steady sun
    assert by_second[60] == pytest.approx(5000 / 690)
    assert all(by_second[s] == 6.0 for s in range(120, 180, 10))  # the cloud: its minimum
    assert by_second[180] == pytest.approx(5000 / 690)
    assert all(by_second[s] == 6.0 for s in range(300, 480, 10))  # gone: 180 s at minimum
    assert all(by_second[s] == 0.0 for s in range(480, 600, 10))


def test_a_solar_session_starts_when_its_gate_opens_not_after_the_pause_dwell() -> None:
    """The gate is the solar session's hysteresis: once it opens, the 300 s pause dwell a
    paused EV otherwise waits out (against start/stop flapping) does not hold it back."""
    base = site(connector("a"), limit_a=63, worst_a=(5, 5, 5))
    solar = replace(base, chargers=(replace(base.chargers[0], mode=ChargingMode.SOLAR),))
    settings = ControlSettings(period_s=10, solar_enable_delay_s=60, solar_disable_delay_s=180)
    assert settings.pause_dwell_s > 200
    h = Harness(solar, settings, FairShareSolver())
    h.start("a", "T1")
    sent: dict[int, float] = {}
    # (seconds, net import W): no sun for 60 s, then 5 kW of export
    for second in range(0, 200, 10):
        net_w = 500.0 if second < 60 else -5000.0
        h.send(MeterReading("main", h.clock.now, True, (5.0, 5.0, 5.0), total_power_w=net_w))
        for key, limit_a in tx_limits(h.tick()).items():
            assert key == "a/1"
            sent[second] = limit_a
        h.advance(10)
    assert sent[0] == 0.0, "paused while there is no surplus"
    started = min(s for s, limit_a in sent.items() if limit_a > 0)
    assert started == 120, "60 s of surplus open the gate; the EV starts then"
