"""The product beats the simple strategies on every shipped scenario."""

from __future__ import annotations

import pytest

from ems.replay import compute_kpis, replay
from ems.replay.synthetic import REFERENCE


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_optimal_delivers_and_serves_at_least_as_much_as_equal_and_fcfs(name: str) -> None:
    scenario = REFERENCE[name]()
    optimal = compute_kpis(replay(scenario, "optimal"))
    assert optimal.limit_violation_steps == 0
    for baseline in ("equal", "fcfs"):
        other = compute_kpis(replay(scenario, baseline))
        assert optimal.energy_delivered_kwh >= other.energy_delivered_kwh, baseline
        assert optimal.sessions_fully_served >= other.sessions_fully_served, baseline
