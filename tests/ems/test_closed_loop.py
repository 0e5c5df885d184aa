from datetime import datetime, timedelta

from ems.closed_loop import observe_draw, probe
from ems.site import ControlSettings
from ems.state import ConnectorRuntime
from optimizer.problem import PhaseTriple
from tests.ems.fakes import T0
from tests.ems.rules import charging

SETTINGS = ControlSettings(
    taper_margin_a=1.0,
    taper_detect_s=60,
    probe_interval_s=300,
    noncompliance_tolerance_a=2.0,
    noncompliance_after_s=60,
)


def observe(
    runtime: ConnectorRuntime, drawn_a: PhaseTriple, when: datetime, settings: ControlSettings
) -> bool:
    """A draw judged against the limit the connector was set (its accepted profile)."""
    return observe_draw(runtime, drawn_a, when, settings, runtime.limit_a())


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_drawing_less_than_allowed_for_the_detect_time_lowers_the_bound() -> None:
    runtime = charging(16.0)
    observe(runtime, (9.0, 9.0, 9.0), at(0), SETTINGS)
    observe(runtime, (9.0, 9.0, 9.0), at(59), SETTINGS)
    assert runtime.taper.bound_a is None
    observe(runtime, (9.0, 9.0, 9.0), at(60), SETTINGS)
    assert runtime.taper.bound_a == 10.0


def test_taper_bound_never_below_the_minimum() -> None:
    runtime = charging(16.0)
    observe(runtime, (0.0, 0.0, 0.0), at(0), SETTINGS)
    observe(runtime, (0.5, 0.5, 0.5), at(60), SETTINGS)
    assert runtime.taper.bound_a == 6.0


def test_a_short_dip_does_not_taper() -> None:
    runtime = charging(16.0)
    observe(runtime, (9.0, 9.0, 9.0), at(0), SETTINGS)
    observe(runtime, (16.0, 16.0, 16.0), at(30), SETTINGS)
    observe(runtime, (9.0, 9.0, 9.0), at(61), SETTINGS)
    assert runtime.taper.bound_a is None


def test_probe_lifts_the_bound_after_the_interval() -> None:
    runtime = charging(16.0)
    observe(runtime, (9.0, 9.0, 9.0), at(0), SETTINGS)
    observe(runtime, (9.0, 9.0, 9.0), at(60), SETTINGS)
    assert not probe(runtime, at(359), SETTINGS)
    assert runtime.taper.bound_a == 10.0
    assert probe(runtime, at(360), SETTINGS)
    assert runtime.taper.bound_a is None


def test_a_session_once_bounded_stays_marked_tapering_after_the_probe() -> None:
    runtime = charging(16.0)
    assert runtime.session is not None
    observe(runtime, (9.0, 9.0, 9.0), at(0), SETTINGS)
    assert not runtime.session.tapering
    observe(runtime, (9.0, 9.0, 9.0), at(60), SETTINGS)
    assert runtime.session.tapering
    assert probe(runtime, at(360), SETTINGS)
    assert runtime.session.tapering


def test_drawing_up_to_the_bound_lifts_it() -> None:
    runtime = charging(16.0)
    observe(runtime, (9.0, 9.0, 9.0), at(0), SETTINGS)
    observe(runtime, (9.0, 9.0, 9.0), at(60), SETTINGS)
    runtime.sent = charging(10.0).sent
    observe(runtime, (10.0, 10.0, 10.0), at(70), SETTINGS)
    assert runtime.taper.bound_a is None


def test_drawing_more_than_allowed_for_long_flags_non_compliance() -> None:
    runtime = charging(10.0)
    assert not observe(runtime, (16.0, 16.0, 16.0), at(0), SETTINGS)
    assert not observe(runtime, (16.0, 16.0, 16.0), at(59), SETTINGS)
    assert observe(runtime, (16.0, 16.0, 16.0), at(60), SETTINGS)
    assert runtime.uncontrolled_reason is not None
    assert runtime.compliance.flagged


def test_within_tolerance_is_compliant() -> None:
    runtime = charging(10.0)
    for second in range(0, 200, 20):
        assert not observe(runtime, (12.0, 12.0, 12.0), at(second), SETTINGS)
    assert not runtime.compliance.flagged


def test_one_phase_ev_is_recognised_from_its_draw() -> None:
    runtime = charging(16.0)
    observe(runtime, (15.8, 0.1, 0.0), at(0), SETTINGS)
    assert runtime.session is not None
    assert runtime.session.ev_phases == (runtime.config.phases[0],)
