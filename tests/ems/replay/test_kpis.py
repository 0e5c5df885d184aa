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


def test_violation_energy_is_the_energy_above_the_limits() -> None:
    result = replay(small(), "uncontrolled")
    kpis = compute_kpis(result)
    to_kwh = result.voltage_v * result.timeline.step_s / 3600.0 / 1000.0
    over = (result.site_current_a - result.timeline.phase_limit_a[:, None]).clip(min=0)
    (deck,) = small().site.circuits
    over_deck = (result.circuit_current_a[deck.id] - deck.limit_a).clip(min=0)
    assert over_deck.sum() > 0.0  # uncontrolled, `small`'s 20 A circuit is overloaded too
    assert kpis.circuit_violation_kwh == pytest.approx(over_deck.sum() * to_kwh, abs=0.001)
    assert kpis.circuit_violation_steps == int((over_deck.max(axis=1) > 0.01).sum())
    assert kpis.limit_violation_kwh == pytest.approx(
        (over.sum() + over_deck.sum()) * to_kwh, abs=0.001
    )
    assert kpis.limit_violation_steps >= kpis.circuit_violation_steps


def test_circuit_loads_add_up_the_connectors_below_them() -> None:
    result = replay(small(), "uncontrolled")
    site = small().site
    (deck,) = site.circuits
    on_deck = [i for i, c in enumerate(site.connectors()) if c.circuit == deck.id]
    assert on_deck
    # Every connector on the deck draws on every phase it adds to the circuit's load.
    deck_total = result.circuit_current_a[deck.id].sum(axis=1)
    assert deck_total.max() > 0.0
    assert (deck_total <= result.site_current_a.sum(axis=1) + 1e-9).all()
    assert result.circuit_limit_a == {deck.id: deck.limit_a}


def test_controlled_strategies_break_no_circuit() -> None:
    for strategy in ("optimal", "edf", "equal"):
        kpis = compute_kpis(replay(small(), strategy))
        assert kpis.circuit_violation_steps == 0, strategy
        assert kpis.limit_violation_steps == 0, strategy


def test_prices_give_a_cost() -> None:
    kpis = compute_kpis(replay(workplace_day(), "fcfs"))
    assert kpis.cost is not None
    assert kpis.cost > 0
