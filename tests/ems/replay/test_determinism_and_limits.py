"""Replays are deterministic, keep the limit where they should, and serve everything
when everything fits."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from ems.replay import (
    STRATEGIES,
    LimitPoint,
    ReplayOptions,
    Scenario,
    compute_kpis,
    replay,
    runner,
)
from ems.replay.synthetic import small
from optimizer.allocation import Allocation, SolveStatus
from optimizer.fallback import equal_share
from optimizer.problem import Problem

TIMING_KEYS = {"wall_seconds", "solve_ms_p50", "solve_ms_p95"}


def _kpis_without_timing(scenario: Scenario, strategy: str) -> dict[str, object]:
    values = compute_kpis(replay(scenario, strategy)).as_dict()
    return {k: v for k, v in values.items() if k not in TIMING_KEYS}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_replaying_small_twice_gives_the_same_kpis(strategy: str) -> None:
    scenario = small()
    assert _kpis_without_timing(scenario, strategy) == _kpis_without_timing(scenario, strategy)


def test_replaying_small_twice_gives_the_same_timeseries() -> None:
    first = replay(small(), "optimal")
    second = replay(small(), "optimal")
    assert (first.connector_current_a == second.connector_current_a).all()


def test_uncontrolled_exceeds_the_limit_on_small() -> None:
    kpis = compute_kpis(replay(small(), "uncontrolled"))
    assert kpis.limit_violation_steps > 0
    assert kpis.peak_phase_current_a > small().site.limits.phase_limit_a
    assert kpis.limit_violation_kwh > 0


@pytest.mark.parametrize(
    "strategy", ["equal", "fcfs", "round_robin", "edf", "llf", "optimal", "offline"]
)
def test_managed_strategies_never_exceed_the_limit(strategy: str) -> None:
    result = replay(small(), strategy)
    kpis = compute_kpis(result)
    assert kpis.limit_violation_steps == 0
    assert result.site_current_a.max() <= small().site.limits.phase_limit_a + 0.01


def test_optimal_keeps_the_circuit_limit() -> None:
    scenario = small()
    result = replay(scenario, "optimal")
    deck = {c.key for c in scenario.site.connectors() if c.circuit == "deck"}
    columns = [i for i, key in enumerate(result.connectors) if key in deck]
    # Every connector on the deck is 1-phase on the same phase, so their sum is its load.
    assert result.connector_current_a[:, columns].sum(axis=1).max() <= 20.0 + 0.01


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_everything_fits_so_every_strategy_delivers_all(fitting: Scenario, strategy: str) -> None:
    kpis = compute_kpis(replay(fitting, strategy))
    assert kpis.energy_delivered_pct == pytest.approx(100.0, abs=0.01)
    assert kpis.sessions_fully_served == kpis.sessions_total == 4
    assert kpis.limit_violation_steps == 0


@pytest.mark.parametrize("min_current_a", [0.0, 6.0])
def test_min_current_option_is_applied(fitting: Scenario, min_current_a: float) -> None:
    result = replay(fitting, "optimal", ReplayOptions(min_current_a=min_current_a))
    assert compute_kpis(result).energy_delivered_pct == pytest.approx(100.0, abs=0.01)


def test_step_is_configurable(fitting: Scenario) -> None:
    five = replay(fitting, "uncontrolled", ReplayOptions(step_s=300))
    fifteen = replay(fitting, "uncontrolled", ReplayOptions(step_s=900))
    assert five.timeline.steps == 3 * fifteen.timeline.steps


@pytest.mark.parametrize(
    "strategy", ["equal", "fcfs", "round_robin", "edf", "llf", "optimal", "offline"]
)
def test_a_lowered_limit_is_kept(strategy: str) -> None:
    scenario = small()
    start = scenario.start
    lowered = replace(
        scenario,
        limits=(
            LimitPoint(start + timedelta(hours=1), 30.0),
            LimitPoint(start + timedelta(hours=3), 40.0),
        ),
    )
    result = replay(lowered, strategy)
    assert compute_kpis(result).limit_violation_steps == 0
    assert result.site_current_a[12:36].max() <= 30.0 + 0.01
    assert result.site_current_a.max() > 30.0


@pytest.mark.parametrize("strategy", ["optimal", "offline"])
def test_a_site_limit_override_sets_the_fuse_and_caps_a_limit_series(strategy: str) -> None:
    scenario = small()
    start = scenario.start
    lowered = replace(
        scenario,
        limits=(
            LimitPoint(start, 40.0),
            LimitPoint(start + timedelta(hours=1), 20.0),
            LimitPoint(start + timedelta(hours=3), 40.0),
        ),
    )
    result = replay(lowered, strategy, ReplayOptions(site_limit_a=28.0))
    limits = result.timeline.phase_limit_a
    assert set(limits[:12]) == {28.0}
    assert set(limits[12:36]) == {20.0}
    assert set(limits[36:]) == {28.0}
    assert compute_kpis(result).limit_violation_steps == 0
    assert result.site_current_a[12:36].max() <= 20.0 + 0.01
    assert 27.0 < result.site_current_a.max() <= 28.0 + 0.01


def test_an_hour_the_base_load_alone_fills_pauses_every_session_without_solving() -> None:
    """An hour whose limit is below the base load alone leaves nothing to optimise: the
    controller pauses every session there without a solve (no fallback step)."""
    scenario = small()
    start = scenario.start
    squeezed = replace(
        scenario,
        limits=(
            LimitPoint(start + timedelta(hours=2), 1.0),
            LimitPoint(start + timedelta(hours=3), 40.0),
        ),
    )
    result = replay(squeezed, "optimal")
    assert compute_kpis(result).optimizer_fallback_steps == 0
    hour = [k for k in range(result.timeline.steps) if result.timeline.phase_limit_a[k] == 1.0]
    assert len(hour) == 12
    # a profile sent at a step is in force from the next one on
    assert result.connector_current_a[hour[1:]].max() == 0.0
    assert result.connector_current_a.max() > 0.0


def test_steps_on_the_optimizer_fallback_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A solver answering with its safe fallback at every step: the KPIs say how many."""

    class FallbackSolver:
        def solve(self, problem: Problem) -> Allocation:
            return equal_share(problem, SolveStatus.FALLBACK_INFEASIBLE)

    scenario = small()
    assert compute_kpis(replay(scenario, "optimal")).optimizer_fallback_steps == 0
    monkeypatch.setattr(runner, "Solver", FallbackSolver)
    result = replay(scenario, "optimal")
    solved_steps = len(result.decide_ms)
    assert 0 < compute_kpis(result).optimizer_fallback_steps <= solved_steps
    assert compute_kpis(replay(scenario, "equal")).optimizer_fallback_steps == 0
