"""A grid operator's cap schedule as the site limit over time: the lowest of the fuse, the
override and the caps; a lower cap in force `lead_s` before it starts, a higher one only
from its start; and through the controller a lowering goes out with the event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ems.grid_cap import GridCap, cap_at, caps_ahead
from ems.site import ControlSettings
from ems.site_limit import GRID_CAP_REASON, OVERRIDE_REASON, limit_wanted
from optimizer.problem import SiteLimits
from tests.ems.fakes import FairShareSolver, connector, site
from tests.ems.harness import Harness, set_limits, tx_limits

T0 = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
FUSE = SiteLimits(63.0, None, 230.0)
LEAD_S = 10.0
SCHEDULE = (
    GridCap(T0 + timedelta(hours=1), phase_limit_a=25.0),
    GridCap(T0 + timedelta(hours=2), power_limit_w=11_000.0),
    GridCap(T0 + timedelta(hours=3)),
)


def wanted(at: datetime, override_a: float | None = None) -> tuple[float, float | None, str | None]:
    change = limit_wanted(FUSE, SCHEDULE, override_a, at, LEAD_S)
    assert change.at == at
    return change.phase_limit_a, change.power_limit_w, change.reason


def test_before_the_first_cap_the_fuse_holds() -> None:
    assert cap_at(SCHEDULE, T0) is None
    assert wanted(T0) == (63.0, None, None)


def test_a_lower_cap_is_in_force_lead_s_before_it_starts() -> None:
    start = SCHEDULE[0].start
    assert wanted(start - timedelta(seconds=LEAD_S + 1))[0] == 63.0
    assert wanted(start - timedelta(seconds=LEAD_S)) == (
        25.0,
        None,
        f"{GRID_CAP_REASON} from 2026-03-02T17:00+00:00",
    )
    assert wanted(start)[0] == 25.0


def test_a_higher_cap_waits_for_its_start() -> None:
    end = SCHEDULE[2].start
    assert wanted(end - timedelta(seconds=1))[:2] == (63.0, 11_000.0)
    assert wanted(end) == (63.0, None, None)
    # from 25 A per phase to 11 kW in total: the phase cap holds until the power cap starts
    switch = SCHEDULE[1].start
    assert wanted(switch - timedelta(seconds=1))[:2] == (25.0, 11_000.0)
    assert wanted(switch)[:2] == (63.0, 11_000.0)


def test_the_lowest_of_override_and_cap_binds() -> None:
    during = SCHEDULE[0].start + timedelta(minutes=5)
    assert wanted(during, override_a=30.0)[0] == 25.0
    assert wanted(during, override_a=20.0) == (20.0, None, OVERRIDE_REASON)
    assert wanted(T0, override_a=70.0) == (63.0, None, None)


def test_caps_ahead_are_the_one_in_force_and_those_to_come() -> None:
    during = SCHEDULE[0].start + timedelta(minutes=5)
    assert caps_ahead(SCHEDULE, during, during + timedelta(hours=2)) == list(SCHEDULE)
    assert caps_ahead(SCHEDULE, T0, T0 + timedelta(minutes=30)) == []


def test_the_controller_lowers_at_once_when_the_cap_comes_into_force() -> None:
    settings = ControlSettings(period_s=10, min_update_interval_s=60)
    h = Harness(site(connector("a"), limit_a=63, worst_a=(5, 5, 5)), settings, FairShareSolver())
    h.meter((10, 10, 10))
    h.start("a", "T1")
    assert tx_limits(h.tick()) == {"a/1": 32.0}
    at = SCHEDULE[0].start - timedelta(seconds=LEAD_S)
    commands = set_limits(h.send(limit_wanted(FUSE, SCHEDULE, None, at, LEAD_S)))
    assert tx_limits(commands)["a/1"] <= 15.0  # 25 A less the 10 A measured, at once
