"""The generated scenario family: seeded, varied along every axis it promises, and a fast
subset on which the research baselines keep every limit (site phases, circuits, the power
cap). The full family is measured by `benchmarks/quality.py`."""

from __future__ import annotations

import numpy as np
import pytest

from ems.replay import ReplayResult, Scenario, replay
from ems.replay.engine import ev_max_current_a, ev_phases
from ems.replay.family import SHAPES, family, generate

TOLERANCE_A = 1e-6


def test_the_same_shape_and_seed_give_the_same_scenario() -> None:
    assert generate("depot", 7) == generate("depot", 7)
    assert generate("depot", 7) != generate("depot", 8)
    with pytest.raises(ValueError, match="castle"):
        generate("castle", 1)


def test_the_family_varies_along_every_axis() -> None:
    members = family(40, max_connectors=400)
    params = [m.params for m in members]
    assert {p.shape for p in params} == set(SHAPES)
    assert {p.min_current_a for p in params} == {0.0, 6.0}
    assert {p.wiring for p in params} == {"1-phase", "3-phase", "mixed"}
    assert {p.varying_load for p in params} == {True, False}
    assert {p.power_cap for p in params} == {True, False}
    assert min(p.fuse_factor for p in params) < 1.0 < 3.0 < max(p.fuse_factor for p in params)
    assert min(p.connectors for p in params) < 30
    assert max(p.connectors for p in params) > 100
    some_ev_below_connector = False
    for member in members:
        scenario = member.scenario
        connectors = scenario.connectors_by_key()
        assert all(c.min_current_a == member.params.min_current_a for c in connectors.values())
        for s in scenario.sessions:
            connector = connectors[s.connector]
            voltage_v = scenario.site.limits.voltage_v
            if ev_max_current_a(connector, s, voltage_v) < connector.max_current_a - 0.5:
                some_ev_below_connector = True
            assert s.arrival < s.departure
    assert some_ev_below_connector


def _worst_excess_a(scenario: Scenario, result: ReplayResult) -> float:
    """The largest amount by which any site phase, circuit phase or the power cap (in A
    per phase at 230 V) was exceeded in any step."""
    timeline = result.timeline
    column = {key: i for i, key in enumerate(result.connectors)}
    connectors = scenario.connectors_by_key()
    circuit_load = {c.id: np.zeros((timeline.steps, 3)) for c in scenario.site.circuits}
    for s in scenario.sessions:
        connector = connectors[s.connector]
        if connector.circuit is None:
            continue
        for phase in ev_phases(connector, s):
            circuit_load[connector.circuit][:, phase] += result.connector_current_a[
                :, column[s.connector]
            ]
    worst = float((result.site_current_a - timeline.phase_limit_a[:, None]).max())
    for circuit in scenario.site.circuits:
        worst = max(worst, float((circuit_load[circuit.id] - circuit.limit_a).max()))
    caps = timeline.power_limit_w
    if not np.isnan(caps).all():
        total_w = result.site_current_a.sum(axis=1) * result.voltage_v
        over_w = np.where(np.isnan(caps), -np.inf, total_w - caps)
        worst = max(worst, float(over_w.max()) / (3 * result.voltage_v))
    return worst


@pytest.mark.parametrize("strategy", ["edf", "llf", "round_robin"])
def test_the_research_baselines_keep_every_limit_on_generated_scenarios(strategy: str) -> None:
    binding = 0
    for member in family(6, seed=100, max_connectors=30):
        scenario = member.scenario
        result = replay(scenario, strategy)
        assert _worst_excess_a(scenario, result) <= TOLERANCE_A, member.params
        delivered_wh = sum(o.delivered_wh for o in result.sessions)
        binding += delivered_wh < 0.99 * sum(s.energy_wh for s in scenario.sessions)
    # The subset must contain scenarios whose limits bind, or the check proves nothing.
    assert binding >= 2


def test_the_limit_check_catches_an_overload() -> None:
    member = generate("workplace", 3, max_connectors=30)
    result = replay(member.scenario, "uncontrolled")
    assert _worst_excess_a(member.scenario, result) > 1.0
