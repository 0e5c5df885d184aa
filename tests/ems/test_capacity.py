from datetime import timedelta
from typing import Any

from ems.capacity import assess
from ems.events import ConnectorStatus, MeterReading
from ems.meter_watch import Mode
from ems.site import ConnectorConfig, ControlSettings
from ems.state import Draw, SiteState
from optimizer.problem import Circuit
from tests.ems.fakes import L1, L2, L3, T0, connector, site
from tests.ems.harness import two_sessions_at_their_share
from tests.ems.rules import install_defaults, set_charging

SETTINGS = ControlSettings()


def state_with(*connectors: ConnectorConfig, **kwargs: Any) -> SiteState:
    s = site(*connectors, **kwargs)
    return install_defaults(SiteState.initial(s, SETTINGS, {c.key: 6.0 for c in s.connectors()}))


def metered(state: SiteState, amps: tuple[float, float, float]) -> None:
    state.meter.observe(MeterReading("main", T0, True, amps))


def test_base_load_subtracts_rotated_and_one_phase_draws_on_their_site_phases() -> None:
    state = state_with(connector("a", phases=(L2, L3, L1)), connector("b", phases=(L3,)))
    metered(state, (30.0, 40.0, 50.0))
    for key, drawn in (("a/1", (10.0, 12.0, 14.0)), ("b/1", (0.0, 0.0, 16.0))):
        runtime = state.connectors[key]
        set_charging(runtime, 20.0, sent_ago_s=60)
        runtime.record_draw(Draw(drawn, T0))
    capacity = assess(state, SETTINGS, T0)
    assert capacity.mode is Mode.NORMAL
    assert capacity.base_load_a == (20.0, 28.0, 20.0)


def test_draw_above_the_allowed_limit_is_not_subtracted() -> None:
    state = state_with(connector("a"))
    metered(state, (30.0, 30.0, 30.0))
    runtime = state.connectors["a/1"]
    set_charging(runtime, 10.0, 60)
    runtime.record_draw(Draw((16.0, 16.0, 16.0), T0))
    assert assess(state, SETTINGS, T0).base_load_a == (20.0, 20.0, 20.0)


def test_sample_is_not_subtracted_while_the_limit_was_sent_after_the_reading() -> None:
    """Paused when the meter was read, resumed since: the reading holds none of the draw
    the older sample shows."""
    state = state_with(connector("a"))
    metered(state, (30.0, 30.0, 30.0))
    runtime = state.connectors["a/1"]
    set_charging(runtime, 10.0, now=T0 + timedelta(seconds=1))
    runtime.record_draw(Draw((16.0, 16.0, 16.0), T0 - timedelta(seconds=30)))
    later = T0 + timedelta(seconds=2)
    assert assess(state, SETTINGS, later).base_load_a == (30.0, 30.0, 30.0)


def test_stale_sample_and_charger_outside_the_meter_are_not_subtracted() -> None:
    state = state_with(connector("a"), behind_meter=False)
    metered(state, (30.0, 30.0, 30.0))
    runtime = state.connectors["a/1"]
    runtime.record_draw(Draw((10.0, 10.0, 10.0), T0))
    assert assess(state, SETTINGS, T0).base_load_a == (30.0, 30.0, 30.0)
    state = state_with(connector("a"))
    metered(state, (30.0, 30.0, 30.0))
    runtime = state.connectors["a/1"]
    runtime.status = ConnectorStatus.CHARGING
    runtime.record_draw(Draw((6.0, 6.0, 6.0), T0 - timedelta(seconds=181)))
    state.meter.observe(MeterReading("main", T0, True, (30.0, 30.0, 30.0)))
    assert assess(state, SETTINGS, T0).base_load_a == (30.0, 30.0, 30.0)


def test_conservative_mode_assumes_the_worst_base_load() -> None:
    state = state_with(connector("a"), worst_a=(25.0, 20.0, 15.0))
    capacity = assess(state, SETTINGS, T0)
    assert capacity.mode is Mode.CONSERVATIVE
    assert capacity.base_load_a == (25.0, 20.0, 15.0)


def test_offline_charger_counts_its_last_limit_on_site_and_circuits() -> None:
    state = state_with(
        connector("a", phases=(L2,), circuit="row"),
        circuits=(Circuit("top", 50), Circuit("row", 30, parent="top")),
    )
    runtime = state.connectors["a/1"]
    set_charging(runtime, 14.0)
    state.chargers["a"].online = False
    capacity = assess(state, SETTINGS, T0)
    assert capacity.reserved_a == (0.0, 14.0, 0.0)
    assert capacity.circuit_reserved_a == {"top": (0.0, 14.0, 0.0), "row": (0.0, 14.0, 0.0)}


def test_sample_is_not_subtracted_while_the_fallback_in_force_was_set_after_the_reading() -> None:
    """An EV plugged in without a session draws at its fallback. The fallback was 0 A when
    the meter was read (a site limit of 0) and has been raised since: the reading holds
    none of the draw an older sample shows, so none of it is taken off."""
    state = state_with(connector("a"))
    metered(state, (6.0, 6.0, 6.0))
    runtime = state.connectors["a/1"]
    runtime.status = ConnectorStatus.PREPARING
    runtime.record_draw(Draw((4.0, 4.0, 4.0), T0 - timedelta(seconds=5)))
    runtime.fallback_a, runtime.fallback_at = 0.2, T0 + timedelta(seconds=1)
    later = T0 + timedelta(seconds=2)
    assert assess(state, SETTINGS, later).base_load_a == (6.0, 6.0, 6.0)
    runtime.fallback_at = T0 - timedelta(seconds=1)
    assert assess(state, SETTINGS, later).base_load_a == (5.8, 5.8, 5.8)


def test_plugged_ev_without_session_is_counted_at_its_fallback() -> None:
    state = state_with(connector("a", phases=(L1,)))
    state.connectors["a/1"].status = ConnectorStatus.PREPARING
    assert assess(state, SETTINGS, T0).reserved_a == (6.0, 0.0, 0.0)


def test_the_sample_current_at_the_reading_is_taken_off_it_not_a_newer_one() -> None:
    state = state_with(connector("a"))
    metered(state, (30.0, 30.0, 30.0))
    runtime = state.connectors["a/1"]
    set_charging(runtime, 20.0, 60)
    runtime.record_draw(Draw((16.0, 16.0, 16.0), T0 - timedelta(seconds=10)))
    runtime.record_draw(Draw((8.0, 8.0, 8.0), T0 + timedelta(seconds=1)))
    assert assess(state, SETTINGS, T0 + timedelta(seconds=1)).base_load_a == (14.0, 14.0, 14.0)


def test_a_late_sample_older_than_the_latest_is_kept_as_the_one_before() -> None:
    runtime = state_with(connector("a")).connectors["a/1"]
    runtime.record_draw(Draw((8.0, 8.0, 8.0), T0 + timedelta(seconds=1)))
    runtime.record_draw(Draw((16.0, 16.0, 16.0), T0 - timedelta(seconds=10)))
    assert runtime.drawn_a == (8.0, 8.0, 8.0)
    as_of = runtime.draw_as_of(T0)
    assert as_of is not None
    assert as_of.current_a == (16.0, 16.0, 16.0)
    runtime.forget_draw()
    assert runtime.draw_as_of(T0 + timedelta(seconds=1)) is None


def test_chargers_reporting_just_after_a_reading_do_not_inflate_the_base_load() -> None:
    h = two_sessions_at_their_share()
    h.advance(10)
    h.meter((32, 32, 32))
    h.advance(1)  # both chargers report just after the reading, before the step
    h.sample("a", (11, 11, 11))
    h.sample("b", (11, 11, 11))
    h.tick()
    view = h.controller.view()
    assert view.base_load_a == (10.0, 10.0, 10.0)
    assert (h.limit_of("a/1"), h.limit_of("b/1")) == (11, 11)


def test_a_sample_older_than_the_reading_is_taken_off_it() -> None:
    h = two_sessions_at_their_share()
    h.advance(10)
    h.sample("a", (11, 11, 11))
    h.sample("b", (11, 11, 11))
    h.advance(5)
    h.meter((32, 32, 32))
    h.tick()
    assert h.controller.view().base_load_a == (10.0, 10.0, 10.0)


def test_a_fall_of_the_base_load_counts_once_it_held_and_a_rise_at_once() -> None:
    state = state_with(connector("a"))
    hold_s = SETTINGS.base_fall_hold_s
    state.meter.observe(MeterReading("main", T0, True, (20.0, 20.0, 20.0)))
    assert assess(state, SETTINGS, T0).base_load_a == (20.0, 20.0, 20.0)
    # one low reading — a lagging meter's old values, a glitch — does not hand out room
    fell_at = T0 + timedelta(seconds=1)
    state.meter.observe(MeterReading("main", fell_at, True, (5.0, 20.0, 25.0)))
    assert assess(state, SETTINGS, fell_at).base_load_a == (20.0, 20.0, 25.0)
    # once every reading of the hold shows it, it counts
    later = T0 + timedelta(seconds=1 + hold_s)
    state.meter.observe(MeterReading("main", later, True, (5.0, 20.0, 25.0)))
    assert assess(state, SETTINGS, later).base_load_a == (5.0, 20.0, 25.0)
