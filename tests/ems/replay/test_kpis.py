from __future__ import annotations

import pytest

from ems.replay import compute_kpis, replay
from ems.replay.scenario import Scenario
from ems.replay.synthetic import small, workplace_day


def test_energy_and_sessions_add_up(fitting: Scenario) -> None:
    result = replay(fitting, "uncontrolled")
    kpis = compute_kpis(result)
    assert kpis.energy_requested_kwh == pytest.approx(29.0)
    hours = result.timeline.step_s / 3600.0
    assert result.connector_power_w.sum() * hours / 1000.0 == pytest.approx(
        kpis.energy_delivered_kwh, abs=0.01
    )
    assert kpis.jain_fairness == pytest.approx(1.0)
    assert kpis.cost is None


def test_violation_energy_is_the_energy_above_the_limit() -> None:
    result = replay(small(), "uncontrolled")
    kpis = compute_kpis(result)
    over = (result.site_current_a - result.timeline.phase_limit_a[:, None]).clip(min=0)
    expected_kwh = over.sum() * result.voltage_v * result.timeline.step_s / 3600.0 / 1000.0
    assert kpis.limit_violation_kwh == pytest.approx(expected_kwh, abs=0.001)


def test_prices_give_a_cost() -> None:
    kpis = compute_kpis(replay(workplace_day(), "fcfs"))
    assert kpis.cost is not None
    assert kpis.cost > 0
