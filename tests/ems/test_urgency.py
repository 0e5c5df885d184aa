import math
from datetime import timedelta

import pytest

from ems.site import ControlSettings
from ems.urgency import urgency_weight
from tests.ems.fakes import T0, connector, site
from tests.ems.harness import Harness


def weight(need_kwh: float | None, hours: float | None, phases: int = 3) -> float:
    need = None if need_kwh is None else need_kwh * 1000.0
    departure = None if hours is None else T0 + timedelta(hours=hours)
    return urgency_weight(need, departure, 16.0, phases, T0, 230.0, 300.0)


def test_weight_grows_with_the_square_of_the_share_of_the_maximum_needed() -> None:
    # 6.9 kWh in 2 h on 3 phases at 230 V is 5 A of a 16 A maximum.
    assert weight(6.9, 2.0) == pytest.approx(16.0 * (5.0 / 16.0) ** 2 * math.sqrt(3))
    assert weight(6.9, 1.0) == pytest.approx(16.0 * (10.0 / 16.0) ** 2 * math.sqrt(3))
    assert weight(2.3, 1.0, phases=1) == pytest.approx(16.0 * (10.0 / 16.0) ** 2)
    assert weight(6.9, 1.0) > weight(6.9, 2.0) > weight(6.9, 4.0)


def test_a_session_that_can_finish_at_its_maximum_weighs_the_most() -> None:
    exactly = weight(16.0 * 690.0 / 1000.0, 1.0)  # needs its 16 A for the whole hour
    assert exactly == pytest.approx(16.0 * math.sqrt(3))
    assert exactly > weight(6.9, 1.0)


def test_a_session_out_of_reach_is_triaged_below_those_that_can_finish() -> None:
    # 100 kWh in 1 h would need about 145 A: f becomes 16 / 145.
    needed = 100_000.0 / (230.0 * 3)
    assert weight(100.0, 1.0) == pytest.approx(16.0 * (16.0 / needed) ** 2 * math.sqrt(3))
    assert weight(100.0, 1.0) < weight(6.9, 2.0)
    # Due now: counted as 300 s left, so even a small need is out of reach.
    assert weight(6.9, -1.0) < weight(6.9, 1.0)


def test_weight_is_floored_so_no_session_is_starved() -> None:
    assert weight(0.01, 10.0) == pytest.approx(16.0 * 0.05**2 * math.sqrt(3))


def test_a_session_without_a_need_or_a_departure_is_taken_to_need_its_maximum() -> None:
    assert weight(None, 2.0) == weight(6.9, None) == pytest.approx(16.0 * math.sqrt(3))


@pytest.mark.parametrize("on", [False, True])
def test_the_setting_puts_the_weight_into_the_problem(on: bool) -> None:
    s = site(connector("a", priority=2.0), limit_a=63, worst_a=(0, 0, 0))
    h = Harness(s, ControlSettings(priority_from_laxity=on))
    h.meter((0, 0, 0))
    h.start("a", "T1")
    h.tick()
    expected = 2.0 * 32.0 * math.sqrt(3) if on else 2.0
    assert h.scripted.problems[-1].connectors[0].priority == pytest.approx(expected)
