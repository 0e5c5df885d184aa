from datetime import timedelta

from ems.commands import ProfilePurpose
from ems.planner import (
    default_profile,
    schedule_periods,
    session_profile,
    station_cap_a,
    station_max_profile,
)
from ems.site import ControlSettings
from tests.ems.fakes import L1, L2, T0, connector, site
from tests.ems.rules import charging

SETTINGS = ControlSettings(profile_validity_s=300, start_schedule_backdate_s=60)


def test_session_profile_is_bound_to_the_transaction_and_in_time() -> None:
    runtime = charging(10.0)
    command = session_profile(runtime, (12.34,), None, T0, SETTINGS, 230.0, "why", 24)
    assert command.purpose is ProfilePurpose.TX
    assert command.transaction_id == "tx1"
    assert command.start == T0 - timedelta(seconds=60)
    assert command.duration_s == 360
    assert command.periods[0].start_s == 0
    assert command.periods[0].limit_a == 12.3
    assert command.periods[0].number_phases == 3
    assert command.attempt == 0


def test_schedule_merges_equal_steps_and_respects_max_periods() -> None:
    periods, duration = schedule_periods((10, 10, 8, 8, 6, 4), 60.0, 3, 60.0, 1000.0, 3)
    assert [(p.start_s, p.limit_a) for p in periods] == [(0, 10), (180, 8), (300, 6)]
    assert duration == 360.0  # where the dropped 4 A step would begin


def test_schedule_stops_at_the_profile_duration() -> None:
    periods, duration = schedule_periods((10, 8, 6, 4), 300.0, 1, 60.0, 360.0, 24)
    assert [(p.start_s, p.limit_a) for p in periods] == [(0, 10)]
    assert duration == 360.0


def test_default_profile_is_open_ended_at_the_fallback() -> None:
    runtime = charging(10.0)
    command = default_profile(runtime, T0, SETTINGS, 230.0)
    assert command.purpose is ProfilePurpose.TX_DEFAULT
    assert command.duration_s is None
    assert command.transaction_id is None
    assert command.limit_now_a == 6.0


def test_station_max_is_the_busiest_phase_sum_capped_by_the_site() -> None:
    s = site(
        connector("a", 1, phases=(L1,)),
        connector("a", 2, phases=(L1,)),
        connector("a", 3, phases=(L2,)),
        limit_a=100,
    )
    assert station_cap_a(s, s.chargers[0]) == (64.0, "the sum of its connectors' maximums")
    s = site(connector("a", 1), connector("a", 2), limit_a=40)
    command = station_max_profile(s, s.chargers[0], T0, SETTINGS)
    assert command.connector_id == 0
    assert command.purpose is ProfilePurpose.STATION_MAX
    assert command.limit_now_a == 40.0
