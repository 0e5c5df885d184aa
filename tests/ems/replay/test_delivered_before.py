"""Energy delivered to each session before a moment: what `ems plan --scenario` subtracts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ems.replay import replay
from ems.replay.scenario import Scenario
from tests.ems.replay.conftest import START


def test_after_the_last_departure_it_is_everything_delivered(fitting: Scenario) -> None:
    result = replay(fitting, "optimal")
    end = max(s.departure for s in fitting.sessions) + timedelta(hours=1)
    delivered = result.delivered_before(end)
    for outcome in result.sessions:
        assert delivered[outcome.session_id] == pytest.approx(outcome.delivered_wh, abs=1e-6)


def test_nothing_is_delivered_before_arrival(fitting: Scenario) -> None:
    result = replay(fitting, "uncontrolled")
    delivered = result.delivered_before(START + timedelta(minutes=10))
    assert delivered["s1"] > 0.0
    assert delivered["s2"] == 0.0
    assert delivered["s4"] == 0.0


def test_it_grows_with_time_and_counts_a_step_in_proportion(fitting: Scenario) -> None:
    result = replay(fitting, "uncontrolled")
    step = timedelta(seconds=result.timeline.step_s)
    begin = START + 4 * step
    before = result.delivered_before(begin)
    middle = result.delivered_before(begin + step / 2)
    after = result.delivered_before(begin + step)
    column = result.connectors.index("a/1")
    step_wh = result.connector_power_w[4, column] * result.timeline.step_s / 3600.0
    assert step_wh > 0.0
    assert after["s1"] - before["s1"] == pytest.approx(step_wh)
    assert middle["s1"] == pytest.approx((before["s1"] + after["s1"]) / 2)
