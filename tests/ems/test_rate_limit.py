from ems.rate_limit import decide
from ems.site import ControlSettings
from ems.state import ConnectorRuntime, Session
from tests.ems.fakes import T0, connector
from tests.ems.rules import charging

SETTINGS = ControlSettings(
    deadband_a=1.0,
    deadband_pct=5.0,
    min_update_interval_s=60,
    pause_dwell_s=300,
    profile_validity_s=300,
    period_s=10,
)


def test_first_limit_of_a_session_is_sent() -> None:
    runtime = ConnectorRuntime(connector("cp"), fallback_a=6.0)
    runtime.session = Session("tx1", T0)
    assert decide(runtime, 16.0, T0, SETTINGS).send


def test_change_within_deadband_is_not_sent() -> None:
    d = decide(charging(16.0, sent_ago_s=120), 16.8, T0, SETTINGS)
    assert not d.send
    assert d.limit_a == 16.0


def test_deadband_takes_the_larger_of_amps_and_percent() -> None:
    # 5 % of 32 A is 1.6 A: a 1.5 A raise stays within the deadband
    assert not decide(charging(32.0, sent_ago_s=120), 30.5 + 3.0, T0, SETTINGS).send
    assert decide(charging(32.0, sent_ago_s=120), 29.0, T0, SETTINGS).send


def test_raise_waits_for_the_update_interval() -> None:
    d = decide(charging(10.0, sent_ago_s=30), 16.0, T0, SETTINGS)
    assert not d.send
    assert d.limit_a == 10.0
    assert "interval" in d.why
    assert decide(charging(10.0, sent_ago_s=60), 16.0, T0, SETTINGS).send


def test_lowering_goes_out_at_once_even_just_after_a_send() -> None:
    d = decide(charging(16.0, sent_ago_s=1), 10.0, T0, SETTINGS)
    assert d.send
    assert d.limit_a == 10.0


def test_small_lowering_is_held_but_marked_for_safety_release() -> None:
    d = decide(charging(16.0, sent_ago_s=1), 15.5, T0, SETTINGS)
    assert not d.send
    assert d.held_lowering


def test_pause_goes_out_at_once() -> None:
    d = decide(charging(6.5, sent_ago_s=1), 0.0, T0, SETTINGS)
    assert d.send
    assert d.limit_a == 0.0


def test_paused_ev_stays_paused_for_the_dwell() -> None:
    held = decide(charging(0.0, sent_ago_s=200), 10.0, T0, SETTINGS)
    assert not held.send
    assert held.limit_a == 0.0
    refreshed = decide(charging(0.0, sent_ago_s=290), 10.0, T0, SETTINGS)
    assert refreshed.send
    assert refreshed.limit_a == 0.0
    resumed = decide(charging(0.0, sent_ago_s=300), 10.0, T0, SETTINGS)
    assert resumed.send
    assert resumed.limit_a == 10.0


def test_profile_is_refreshed_before_it_lapses() -> None:
    # validity 300 s, refreshed 2 periods (20 s) early
    assert not decide(charging(16.0, sent_ago_s=279), 16.0, T0, SETTINGS).send
    d = decide(charging(16.0, sent_ago_s=280), 16.0, T0, SETTINGS)
    assert d.send
    assert d.limit_a == 16.0


def test_a_raise_within_the_deadband_goes_out_where_a_shared_limit_binds() -> None:
    held = decide(charging(16.0, sent_ago_s=120), 16.8, T0, SETTINGS)
    assert not held.send
    assert not held.held_lowering
    scarce = decide(charging(16.0, sent_ago_s=120), 16.8, T0, SETTINGS, scarce="site-L1")
    assert scarce.send
    assert scarce.limit_a == 16.8
    assert "site-L1 binds" in scarce.why
    early = decide(charging(16.0, sent_ago_s=30), 16.8, T0, SETTINGS, scarce="site-L1")
    assert not early.send
