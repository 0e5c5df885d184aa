"""The product beats the simple strategies on every shipped scenario, and comes within 1 %
of the hindsight bound."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ems.replay import ReplayOptions, Scenario, compute_kpis, replay
from ems.replay.controller_strategy import ControllerStrategy, replay_settings
from ems.replay.engine import run_replay
from ems.replay.synthetic import REFERENCE
from ems.replay.timeline import build_timeline
from ems.site import ControlSettings
from optimizer import Solver

HINDSIGHT_GAP = 0.01
"""The share of the hindsight bound's energy `optimal` may fall short by."""


@pytest.mark.parametrize("min_current_a", [None, 0.0], ids=["6A-minimum", "no-minimum"])
@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_optimal_is_within_one_percent_of_hindsight_and_beats_equal_and_fcfs(
    name: str, min_current_a: float | None
) -> None:
    """Knowing only the sessions that have arrived, and not the batteries' tails, the
    product delivers within 1 % of the energy of one LP that knows the whole scenario,
    and at least as much energy and as many fully served sessions as the simple splits."""
    scenario = REFERENCE[name]()
    options = ReplayOptions(min_current_a=min_current_a)
    optimal = compute_kpis(replay(scenario, "optimal", options))
    assert optimal.limit_violation_steps == 0
    offline = compute_kpis(replay(scenario, "offline", options))
    assert optimal.energy_delivered_kwh >= (1.0 - HINDSIGHT_GAP) * offline.energy_delivered_kwh
    for baseline in ("equal", "fcfs"):
        other = compute_kpis(replay(scenario, baseline, options))
        assert optimal.energy_delivered_kwh >= other.energy_delivered_kwh, baseline
        assert optimal.sessions_fully_served >= other.sessions_fully_served, baseline


def _optimal_kwh(scenario: Scenario, lookahead: bool) -> float:
    """The controller's delivered energy, with or without its look-ahead."""
    step_s = ReplayOptions().step_s
    settings = replace(replay_settings(ControlSettings(), step_s), lookahead=lookahead)
    strategy = ControllerStrategy(scenario.site, settings, Solver())
    result = run_replay(scenario, build_timeline(scenario, step_s), strategy, "optimal", None)
    return compute_kpis(result).energy_delivered_kwh


@pytest.mark.parametrize("name", ["small", "residential-garage"])
def test_the_lookahead_delivers_more_where_capacity_is_lost_if_not_used_now(name: str) -> None:
    """On `small` a 20 A circuit whose EVs cannot finish; in the garage 1-phase EVs on a
    phase that 3-phase EVs with time to spare also draw on."""
    scenario = REFERENCE[name]()
    assert _optimal_kwh(scenario, lookahead=True) > _optimal_kwh(scenario, lookahead=False)
