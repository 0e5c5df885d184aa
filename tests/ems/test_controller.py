import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from ems.commands import ProfilePurpose, SetLimit
from ems.control_step import TRIAL_A
from ems.events import (
    ConnectorStatus,
    NonComplianceForgiven,
    NonComplianceRecalled,
    SiteLimitChanged,
    StatusChanged,
)
from ems.meter_watch import Mode
from ems.site import ControlSettings
from ems.solver_port import AllocationSolver
from optimizer.allocation import Allocation, SolveStatus
from optimizer.problem import Circuit, Problem
from tests.ems.fakes import L1, L2, L3, T0, FairShareSolver, connector, site
from tests.ems.harness import Harness, set_limits, tx_limits

SETTINGS = ControlSettings(
    period_s=10, meter_stale_s=10, meter_recover_readings=3, reserve_for_arrivals=False
)
"""The rules here are shown with the base load alone; `test_arrivals` adds arrival room."""


def two_chargers(**kwargs: Any) -> Harness:
    s = site(connector("a"), connector("b", phases=(L2, L3, L1)), limit_a=63, worst_a=(30, 30, 30))
    return Harness(s, kwargs.pop("settings", SETTINGS), **kwargs)


def test_session_gets_a_tx_profile_with_its_transaction_on_the_next_tick() -> None:
    h = two_chargers()
    h.scripted.currents = {"a/1": 16.0}
    h.meter((10, 10, 10))
    assert h.start("a", "T1") == []
    commands = h.tick()
    assert len(commands) == 1
    tx = commands[0]
    assert tx.purpose is ProfilePurpose.TX
    assert tx.transaction_id == "T1"
    assert tx.limit_now_a == 16.0
    assert tx.start == T0 - timedelta(seconds=SETTINGS.start_schedule_backdate_s)
    assert "16 A per phase" in tx.reason


def test_connect_installs_station_cap_and_fallbacks() -> None:
    h = two_chargers()
    commands = h.connect("a")
    purposes = [c.purpose for c in commands]
    # the default first: it is what holds an EV that starts right after the boot
    assert purposes == [ProfilePurpose.TX_DEFAULT, ProfilePurpose.STATION_MAX]
    assert commands[0].limit_now_a == h.controller.fallbacks.fallback_a["a/1"]
    assert commands[0].duration_s is None


def test_problem_carries_base_load_without_our_rotated_draw() -> None:
    h = two_chargers()
    h.scripted.currents = {"a/1": 16.0, "b/1": 16.0}
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.start("b", "T2")
    h.tick()
    h.advance(10)
    h.sample("a", (16.0, 16.0, 16.0))
    h.sample("b", (16.0, 10.0, 4.0))  # charger L1,L2,L3 = site L2,L3,L1
    h.meter((10 + 16 + 4, 10 + 16 + 16, 10 + 16 + 10))
    h.tick()
    assert h.scripted.problems[-1].base_load_a == (10.0, 10.0, 10.0)


def test_stale_meter_turns_conservative_within_one_period_and_recovers_after_n() -> None:
    h = two_chargers()
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.tick()
    assert h.scripted.problems[-1].base_load_a == (10.0, 10.0, 10.0)
    h.advance(10)
    h.tick()
    assert h.controller.view().mode is Mode.NORMAL
    h.advance(10)  # silent for 20 s: stale after 10 s, noticed at this tick
    h.tick()
    assert h.controller.view().mode is Mode.CONSERVATIVE
    assert h.scripted.problems[-1].base_load_a == (30.0, 30.0, 30.0)
    for reading in range(3):
        h.advance(1)
        h.meter((10, 10, 10))
        expected = Mode.NORMAL if reading == 2 else Mode.CONSERVATIVE
        assert h.controller.view().mode is expected
    h.tick()
    assert h.scripted.problems[-1].base_load_a == (10.0, 10.0, 10.0)


def test_invalid_reading_replans_at_the_next_tick_even_within_the_period() -> None:
    h = two_chargers()
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.tick()
    h.advance(1)
    h.meter((0, 0, 0), valid=False)
    h.tick()
    assert len(h.scripted.problems) == 2
    assert h.scripted.problems[-1].base_load_a == (30.0, 30.0, 30.0)


def test_tick_within_the_period_does_nothing_when_nothing_changed() -> None:
    h = two_chargers()
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.tick()
    h.advance(5)
    assert h.tick() == []
    assert len(h.scripted.problems) == 1


def test_lowering_goes_out_at_once_and_raise_waits() -> None:
    h = two_chargers()
    h.scripted.currents = {"a/1": 20.0}
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.tick()
    h.advance(10)
    h.scripted.currents = {"a/1": 12.0}
    assert tx_limits(h.tick()) == {"a/1": 12.0}
    h.advance(10)
    h.scripted.currents = {"a/1": 20.0}
    assert h.tick() == []
    assert h.limit_of("a/1") == 12.0
    h.advance(60)
    assert tx_limits(h.tick()) == {"a/1": 20.0}


def test_held_small_lowering_is_released_when_it_would_break_the_limit() -> None:
    s = site(connector("a"), connector("b"), limit_a=32, worst_a=(0, 0, 0))
    h = Harness(s, SETTINGS)
    h.scripted.currents = {"a/1": 16.0, "b/1": 0.0}
    h.meter((0, 0, 0))
    h.start("a", "T1")
    h.tick()
    h.advance(10)
    h.start("b", "T2")
    h.scripted.currents = {"a/1": 15.5, "b/1": 16.5}
    commands = tx_limits(h.tick())
    assert commands == {"a/1": 15.5}
    view = h.controller.view()
    assert "lowered at once" in view.connectors[0].reason
    assert view.held_raises == ("b/1",)
    assert "lower limits of a/1 not yet confirmed" in view.connectors[1].reason
    h.advance(SETTINGS.reaction_s)
    assert tx_limits(h.tick()) == {"b/1": 16.5}
    assert h.controller.view().held_raises == ()


def test_paused_session_stays_paused_for_the_dwell() -> None:
    settings = ControlSettings(period_s=10, pause_dwell_s=120, min_update_interval_s=10)
    h = two_chargers(settings=settings)
    h.scripted.currents = {"a/1": 10.0}
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.tick()
    h.advance(10)
    h.scripted.currents = {"a/1": 0.0}
    assert tx_limits(h.tick()) == {"a/1": 0.0}
    h.scripted.currents = {"a/1": 10.0}
    for _ in range(11):
        h.advance(10)
        h.meter((10, 10, 10))
        assert tx_limits(h.tick()) == {}
        assert not h.scripted.problems[-1].connectors[0].ev_present
    h.advance(10)
    h.meter((10, 10, 10))
    assert tx_limits(h.tick()) == {"a/1": 10.0}


def test_charger_offline_keeps_its_last_limit_counted_as_drawn() -> None:
    h = two_chargers()
    h.scripted.currents = {"a/1": 14.0, "b/1": 10.0}
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.start("b", "T2")
    h.tick()
    h.disconnect("a")
    h.advance(SETTINGS.reaction_s)
    commands = h.tick()
    assert all(c.charger_id != "a" for c in commands)
    problem = h.scripted.problems[-1]
    assert problem.base_load_a == (24.0, 24.0, 24.0)
    assert not problem.connectors[0].ev_present
    assert h.controller.view().connectors[0].state == "offline"
    resend = h.connect("a")
    assert [c.purpose for c in resend] == [ProfilePurpose.TX_DEFAULT, ProfilePurpose.STATION_MAX]
    h.advance(1)
    assert tx_limits(h.tick()) == {"a/1": 14.0}


def sessions_answered_by_hand() -> tuple[Harness, SetLimit]:
    """Sessions on both chargers, every answer left to the test; and the first session
    profile sent to charger a."""
    h = two_chargers(accept=False)
    h.scripted.currents = {"a/1": 14.0, "b/1": 10.0}
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.start("b", "T2")
    return h, next(c for c in h.tick() if c.charger_id == "a")


def test_rejected_profile_is_retried_once_then_the_connector_is_uncontrolled() -> None:
    h, first = sessions_answered_by_hand()
    retry = h.answer(first, accepted=False)
    assert len(retry) == 1
    assert retry[0].attempt == 1
    assert retry[0].transaction_id == "T1"
    assert "retried" in retry[0].reason
    assert h.answer(retry[0], accepted=False) == []
    h.advance(1)
    h.tick()
    problem = h.scripted.problems[-1]
    assert not problem.connectors[0].ev_present
    fallback = h.controller.fallbacks.fallback_a["a/1"]
    assert fallback < 32
    assert problem.base_load_a == (10 + fallback,) * 3, "counted at its default profile"
    view = h.controller.view().connectors[0]
    assert view.state == "uncontrolled"
    assert "refused" in view.reason


def test_accepted_answer_and_stale_answers_change_nothing() -> None:
    h = two_chargers(accept=False)
    h.scripted.currents = {"a/1": 14.0}
    h.meter((10, 10, 10))
    h.start("a", "T1")
    first = h.tick()[0]
    assert h.answer(first, accepted=True, status="Accepted") == []
    h.advance(10)
    h.scripted.currents = {"a/1": 8.0}
    h.tick()
    assert h.answer(first, accepted=False) == []


def test_non_compliant_charger_is_counted_at_its_maximum() -> None:
    h = two_chargers()
    h.scripted.currents = {"a/1": 10.0, "b/1": 10.0}
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.start("b", "T2")
    h.tick()
    for _ in range(7):
        h.advance(10)
        h.sample("a", (20.0, 20.0, 20.0))
        h.meter((40, 40, 40))
        h.tick()
    assert h.controller.view().connectors[0].non_compliant
    problem = h.scripted.problems[-1]
    assert not problem.connectors[0].ev_present
    assert problem.base_load_a[0] >= 32.0


def test_the_others_fallbacks_make_room_for_a_charger_that_ignores_its_own() -> None:
    h = two_chargers()
    before = h.controller.fallbacks.fallback_a["b/1"]
    h.scripted.currents = {"a/1": 10.0, "b/1": 10.0}
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.tick()
    lowered: list[float] = []
    for _ in range(7):
        h.advance(10)
        h.sample("a", (32.0, 32.0, 32.0))
        h.meter((42, 42, 42))
        lowered += [
            c.limit_now_a
            for c in h.tick()
            if c.purpose is ProfilePurpose.TX_DEFAULT and c.charger_id == "b"
        ]
    # a's 32 A leaves b at most 63 - 30 - 32 = 1 A; a's excess over its limit shows in the
    # measured base load too (32 A, above the 30 A worst configured), so b gets nothing:
    # counted twice, on the safe side
    assert h.controller.fallbacks.fallback_a["b/1"] == 0.0 < before
    assert lowered
    assert lowered[-1] == 0.0


def test_the_others_fallbacks_make_room_for_a_charger_that_refused_its_own() -> None:
    h = Harness(two_chargers().site, SETTINGS, accept=False, installed=False)
    startup = h.controller.startup(h.clock.now)
    defaults = [c for c in set_limits(startup) if c.purpose is ProfilePurpose.TX_DEFAULT]
    shared = h.controller.fallbacks.fallback_a["b/1"]
    for command in defaults:
        h.answer(command, accepted=command.charger_id == "b")
    h.advance(1)
    lowered = [c for c in h.tick() if c.purpose is ProfilePurpose.TX_DEFAULT]
    # a keeps whatever its charger does (32 A at most): with every charger at its fallback,
    # b may have 63 - 30 - 32 = 1 A, below its 6 A minimum: 0 A
    assert h.controller.fallbacks.fallback_a["b/1"] == 0.0 < shared
    assert [(c.charger_id, c.limit_now_a) for c in lowered if c.charger_id == "b"] == [("b", 0.0)]
    view = {cv.key: cv for cv in h.controller.view().connectors}
    assert not view["a/1"].bound_proven
    assert "refused its default" in view["a/1"].bound_source


def test_taper_lowers_the_bound_given_to_the_optimizer_then_probes() -> None:
    settings = ControlSettings(period_s=10, taper_detect_s=60, probe_interval_s=120)
    h = two_chargers(settings=settings)
    h.scripted.currents = {"a/1": 16.0}
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.tick()
    for _ in range(7):
        h.advance(10)
        h.sample("a", (8.0, 8.0, 8.0))
        h.meter((18, 18, 18))
        h.tick()
    assert h.scripted.problems[-1].connectors[0].ev_max_current_a == 9.0
    for _ in range(12):
        h.advance(10)
        h.meter((18, 18, 18))
        h.tick()
    assert h.scripted.problems[-1].connectors[0].ev_max_current_a is None


def test_one_phase_ev_on_three_phase_connector_is_planned_on_its_phase() -> None:
    h = two_chargers(solver=FairShareSolver())
    h.meter((10, 10, 10))
    h.start("b", "T2")
    h.tick()
    h.advance(10)
    h.sample("b", (16.0, 0.0, 0.0))  # charger L1 is site L2
    h.tick()
    assert h.solver.problems[-1].connectors[1].ev_phases == (L2,)  # type: ignore[attr-defined]


def test_fair_share_with_circuit_and_view_bottleneck() -> None:
    s = site(
        connector("a", circuit="row"),
        connector("b", circuit="row"),
        connector("c", phases=(L3,)),
        limit_a=63,
        worst_a=(20, 20, 20),
        circuits=(Circuit("row", 20),),
    )
    h = Harness(s, SETTINGS, FairShareSolver())
    h.meter((10, 10, 10))
    for cp, tx in (("a", "T1"), ("b", "T2"), ("c", "T3")):
        h.start(cp, tx)
    assert tx_limits(h.tick()) == {"a/1": 10.0, "b/1": 10.0, "c/1": 32.0}
    view = h.controller.view()
    assert view.connectors[0].bottleneck == "circuit-row-L1"
    assert view.connectors[2].bottleneck == "connector-c/1-max"
    assert view.allowed_total_a == (30.0, 30.0, 62.0)
    assert view.solve_status == "optimal"


def test_solver_fallback_status_is_used_and_explained() -> None:
    h = two_chargers()
    h.scripted.currents = {"a/1": 6.0}
    h.scripted.status = SolveStatus.FALLBACK_SOLVER_ERROR
    h.meter((10, 10, 10))
    h.start("a", "T1")
    command = h.tick()[0]
    assert command.limit_now_a == 6.0
    assert "safe fallback" in command.reason


def test_solver_that_raises_holds_sessions_at_their_fallbacks() -> None:
    class Broken:
        def solve(self, problem: Problem) -> Allocation:
            raise RuntimeError("boom")

    h = two_chargers(solver=Broken())
    h.meter((10, 10, 10))
    h.start("a", "T1")
    command = h.tick()[0]
    assert command.limit_now_a == h.controller.fallbacks.fallback_a["a/1"]


def test_profiles_are_refreshed_before_they_lapse() -> None:
    h = two_chargers()
    h.scripted.currents = {"a/1": 16.0}
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.tick()
    sent = 0
    for _ in range(60):
        h.advance(10)
        h.meter((10, 10, 10))
        sent += len(h.tick())
    assert sent == 2  # 600 s with a 300 s validity, refreshed 20 s early


def test_horizon_gives_a_multi_period_profile_when_needs_are_known() -> None:
    from ems.events import EnergyNeed

    settings = ControlSettings(horizon_steps=4, horizon_step_s=60, profile_validity_s=300)
    h = two_chargers(settings=settings)
    h.scripted.currents = {"a/1": 16.0}
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.send(EnergyNeed("a", 1, T0, energy_wh=20_000, departure=T0 + timedelta(hours=2)))
    h.tick()
    problem = h.scripted.problems[-1]
    assert problem.horizon is not None
    assert problem.horizon.steps == 4
    assert problem.connectors[0].energy_need_wh == 20_000


def test_unknown_charger_events_are_ignored_until_it_connects_and_joins_at_0_A() -> None:
    h = two_chargers()
    assert h.start("zz", "T9") == []
    assert h.sample("zz", (1.0, 1.0, 1.0)) == []
    assert h.tick() == []
    assert [c.key for c in h.controller.view().connectors] == ["a/1", "b/1"]
    defaults = h.connect("zz")
    assert [(c.connector_id, c.purpose, c.limit_now_a) for c in defaults] == [
        (0, ProfilePurpose.TX_DEFAULT, 0.0)
    ]
    assert [c.key for c in h.controller.view().connectors] == ["a/1", "b/1", "zz/0"]


def test_a_departed_evs_last_sample_is_not_taken_off_the_meter() -> None:
    from ems.events import ConnectorStatus, StatusChanged

    h = two_chargers()
    h.meter((10, 10, 10))
    h.send(StatusChanged("a", 1, ConnectorStatus.PREPARING, h.clock.now))
    h.sample("a", (5.0, 5.0, 5.0))
    h.meter((15, 15, 15))
    h.advance(1)
    h.send(StatusChanged("a", 1, ConnectorStatus.AVAILABLE, h.clock.now))
    h.meter((10, 10, 10))
    h.advance(1)
    h.send(StatusChanged("a", 1, ConnectorStatus.PREPARING, h.clock.now))  # another EV
    h.start("b", "T2")
    h.tick()  # the meter reading predates the new EV: nothing of it to subtract
    plugged_at_fallback = h.controller.fallbacks.fallback_a["a/1"]
    expected = 10 + plugged_at_fallback
    assert h.scripted.problems[-1].base_load_a == (expected, expected, expected)


def test_while_unsteered_loads_fill_the_site_every_session_is_paused_without_solving(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """At start-up, before any default profile is accepted, an EV arriving at an idle
    connector could draw its maximum: the room held for a and c fills 63 - 10 A alone, so
    b's session is paused, with a reason and one warning, and no solve (nor a solver
    fallback, a fault) is taken."""
    s = site(
        connector("a", max_a=32),
        connector("b"),
        connector("c", max_a=32),
        limit_a=63,
        worst_a=(10, 10, 10),
    )
    h = Harness(s, replace(SETTINGS, reserve_for_arrivals=True), accept=False, installed=False)
    h.controller.startup(h.clock.now)
    h.meter((10, 10, 10))
    h.start("b", "T1")
    with caplog.at_level(logging.WARNING, logger="ems.control_step"):
        commands = h.tick()
        view = h.controller.view()
        h.advance(SETTINGS.period_s)
        h.meter((10, 10, 10))
        h.tick()
    assert tx_limits(commands) == {"b/1": 0.0}
    b = next(cv for cv in view.connectors if cv.key == "b/1")
    assert b.reason.startswith("paused: what the controller does not steer fills site-L1")
    assert view.solve_status is None
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "every steered session paused until that falls" in caplog.records[0].getMessage()


def test_a_connector_gone_available_ends_its_session_though_no_stop_came() -> None:
    """The EV left (a StopTransaction lost or late); the next EV charges, without a
    transaction yet, under the default profile. The old session's profile, accepted after
    the EV left, bounds nothing: the connector counts at its default, and no profile is
    sent for the old transaction any more."""
    h = two_chargers(accept=False)
    h.scripted.currents = {"a/1": 4.0}
    h.meter((10, 10, 10))
    h.start("a", "T1")
    (tx,) = h.tick()
    h.advance(1)
    h.send(StatusChanged("a", 1, ConnectorStatus.AVAILABLE, h.clock.now))
    assert h.answer(tx, accepted=True, status="Accepted") == []
    h.send(StatusChanged("a", 1, ConnectorStatus.CHARGING, h.clock.now))
    h.advance(SETTINGS.period_s)
    assert tx_limits(h.tick()) == {}
    a = h.controller.view().connectors[0]
    default_a = h.controller.fallbacks.fallback_a["a/1"]
    assert a.bound_a >= default_a > tx.limit_now_a
    assert a.transaction_id is None


def test_a_charger_refusing_session_profiles_stays_uncontrolled_when_it_takes_a_default() -> None:
    """Taking a new default shows the charger takes defaults, not that it now obeys the
    session profiles it refused twice: the connector stays counted as uncontrolled."""
    h, first = sessions_answered_by_hand()
    (retry,) = h.answer(first, accepted=False)
    assert h.answer(retry, accepted=False) == []
    defaults = [
        c
        for c in h.send(SiteLimitChanged(h.clock.now, 50.0, reason="operator override"))
        if c.charger_id == "a" and c.purpose is ProfilePurpose.TX_DEFAULT
    ]
    assert defaults, "a lower site limit moves every fallback"
    for command in defaults:
        h.answer(command, accepted=True, status="Accepted")
    h.advance(1)
    h.tick()
    assert h.controller.view().connectors[0].state == "uncontrolled"


def flagged_then_back(solver: AllocationSolver, meter_a: float) -> Harness:
    """Charger a flagged non-compliant in session T1 beside b's T2; then a's next session
    T3 starts with the site meter at `meter_a` and a step runs: a is on probation."""
    settings = replace(SETTINGS, noncompliance_after_s=10)
    h = two_chargers(settings=settings, solver=solver)
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.start("b", "T2")
    h.tick()
    for _ in range(3):
        h.advance(settings.reaction_s + 1)
        b_a = h.controller.view().connectors[1].limit_a
        h.sample("a", (32.0, 32.0, 32.0))
        h.sample("b", (b_a, b_a, b_a))
        h.meter((42 + b_a, 42 + b_a, 42 + b_a))
        h.tick()
    assert h.controller.view().connectors[0].state == "uncontrolled"
    h.end("a", "T1")
    for _ in range(6):
        h.advance(10)
        h.meter((meter_a, meter_a, meter_a))
        h.tick()
    h.start("a", "T3")
    h.tick()
    return h


def test_a_session_on_probation_has_its_maximum_held_and_is_sent_a_trial_limit() -> None:
    solver = FairShareSolver()
    h = flagged_then_back(solver, 10.0)
    a, b = h.controller.view().connectors
    assert (a.bound_a, a.limit_a) == (32.0, TRIAL_A)
    assert "probation" in a.reason
    assert "32 A maximum is held" in a.reason
    # the others are planned around a's maximum: 63 - 10 base - 32 = 21 A for b
    planned = solver.problems[-1]
    assert planned.base_load_a[0] == pytest.approx(10.0 + 32.0)
    assert not planned.connectors[0].ev_present
    assert b.limit_a == pytest.approx(21.0)
    # a sample within its limit ends the probation: a is planned with the others again
    h.advance(h.settings.period_s)
    h.sample("a", (TRIAL_A, TRIAL_A, TRIAL_A))
    h.tick()
    assert "probation" not in h.controller.view().connectors[0].reason
    assert solver.problems[-1].connectors[0].ev_present


def test_a_session_on_probation_whose_maximum_does_not_fit_pauses_the_others() -> None:
    """As a non-compliant charger would: its maximum and the base load fill the site. It is
    still sent its trial limit, within the room the base load leaves, so that it can show
    it follows it."""
    h = flagged_then_back(FairShareSolver(), 40.0)
    a, b = h.controller.view().connectors
    # b may still draw what it had until it follows its pause: a waits for that room
    assert a.limit_a == 0.0
    assert "waits for room" in a.reason
    assert b.limit_a == 0.0
    h.advance(h.settings.period_s)
    h.meter((40, 40, 40))
    h.tick()
    a, b = h.controller.view().connectors
    assert a.limit_a == TRIAL_A
    assert a.bound_a == 32.0
    assert b.limit_a == 0.0
    assert "fills" in b.reason


def test_a_recalled_noncompliance_puts_the_next_session_on_probation() -> None:
    """After a restart the store tells which chargers were caught drawing too much."""
    h = two_chargers(solver=FairShareSolver())
    h.send(NonComplianceRecalled(T0, ("a/1", "gone/1")))
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.start("b", "T2")
    h.tick()
    a, b = h.controller.view().connectors
    assert a.caught_before
    assert "earlier session" in a.bound_source
    assert a.limit_a == TRIAL_A
    assert not b.caught_before
    assert b.limit_a == pytest.approx(63 - 10 - 32)


def test_a_charger_the_operator_trusts_again_is_planned_with_the_others() -> None:
    """Forgiven, a caught charger's session gets its share of the plan, not a trial limit;
    a charger drawing too much now stays flagged whatever the operator says."""
    h = two_chargers(solver=FairShareSolver())
    h.send(NonComplianceRecalled(T0, ("a/1",)))
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.start("b", "T2")
    h.tick()
    assert h.controller.view().connectors[0].limit_a == TRIAL_A
    h.send(NonComplianceForgiven(T0, "a/1"))
    for _ in range(4):  # both EVs follow their limits, and the meter shows them
        h.advance(SETTINGS.reaction_s + SETTINGS.period_s)
        a, b = h.controller.view().connectors
        h.sample("a", (a.limit_a,) * 3)
        h.sample("b", (b.limit_a,) * 3)
        h.meter((10 + a.limit_a + b.limit_a,) * 3)
        h.tick()
    a, b = h.controller.view().connectors
    assert not a.caught_before
    assert "earlier session" not in a.bound_source
    assert a.limit_a == pytest.approx((63 - 10) / 2, abs=0.2)
    assert b.limit_a == pytest.approx(a.limit_a, abs=0.2)


def a_caught_drawing_too_much(settings: ControlSettings) -> Harness:
    """a's session T1 flagged non-compliant: its EV draws 32 A whatever it is sent."""
    h = two_chargers(settings=settings)
    h.scripted.currents = {"a/1": 10.0}
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.tick()
    for _ in range(3):
        h.advance(settings.reaction_s + 1)
        h.sample("a", (32.0, 32.0, 32.0))
        h.tick()
    assert h.controller.view().connectors[0].state == "uncontrolled"
    return h


def test_a_charger_drawing_too_much_now_is_not_forgiven() -> None:
    h = a_caught_drawing_too_much(replace(SETTINGS, noncompliance_after_s=10))
    h.send(NonComplianceForgiven(h.clock.now, "a/1"))
    h.tick()
    a = h.controller.view().connectors[0]
    assert a.state == "uncontrolled"
    assert a.caught_before


def test_a_charger_found_drawing_too_much_counts_at_its_maximum_in_its_next_session() -> None:
    """Until a sample of the new session shows its EV charging within its limit: the
    session starts before any sample, and a step then must not hand out room that EV may
    already be taking (the fault rig's non-compliant row, with a quick first step)."""
    settings = replace(SETTINGS, noncompliance_after_s=10)
    h = a_caught_drawing_too_much(settings)
    h.end("a", "T1")
    h.advance(60)
    h.start("a", "T2")
    h.tick()
    a = h.controller.view().connectors[0]
    assert a.bound_a == 32.0
    assert "earlier session" in a.bound_source
    h.advance(settings.reaction_s + 1)
    h.sample("a", (a.limit_a, a.limit_a, a.limit_a))
    h.tick()
    assert "earlier session" not in h.controller.view().connectors[0].bound_source
    h.advance(settings.reaction_s + 1)  # the maximum it was counted at lingers that long
    h.tick()
    assert h.controller.view().connectors[0].bound_a < 32.0
