from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from ems.replay import ReplayOptions, Scenario, compute_kpis, replay
from ems.replay.cost_scenarios import office_day_ahead
from ems.replay.engine import apply_options
from ems.replay.offline import plan_offline
from ems.replay.synthetic import small
from ems.replay.timeline import build_timeline
from optimizer.offline import MipOptions, solve
from optimizer.offline.solve import OfflineSolveError


@pytest.mark.parametrize("min_current_a", [None, 0.0])
def test_offline_bounds_every_strategy_from_above(min_current_a: float | None) -> None:
    options = ReplayOptions(min_current_a=min_current_a)
    bound = compute_kpis(replay(small(), "offline", options)).energy_delivered_kwh
    for strategy in ("equal", "fcfs", "optimal"):
        delivered = compute_kpis(replay(small(), strategy, options)).energy_delivered_kwh
        assert delivered <= bound + 0.01


def test_offline_plan_is_drawn_as_planned() -> None:
    """The simulated EVs take what the LP planned: its battery tail is exact."""
    scenario = small()
    timeline = build_timeline(scenario, 300.0)
    plan = plan_offline(scenario, timeline).current_a
    drawn = replay(scenario, "offline").connector_current_a
    planned = plan > 0.01
    assert (drawn[planned] <= plan[planned] + 1e-4).all()
    # Only a departure inside a step draws less (for part of the step).
    assert np.isclose(drawn[planned], plan[planned], atol=1e-3).mean() > 0.9


@pytest.mark.parametrize(
    ("make", "energy_wh"), [(small, 58_199.671), (office_day_ahead, 473_299.527)]
)
def test_the_lp_delivers_what_it_did_before_it_moved_into_the_optimizer(
    make: Callable[[], Scenario], energy_wh: float
) -> None:
    """At a 0 A minimum, the energy of the plan the hindsight LP made as a Pyomo/appsi
    model in `ems.replay.offline` (issue 15 moved it into `optimizer.offline`); the
    office's plan also ranks money second."""
    scenario = apply_options(make(), ReplayOptions(min_current_a=0.0))
    plan = plan_offline(scenario, build_timeline(scenario, 300.0))
    assert plan.energy_wh == pytest.approx(energy_wh, rel=1e-7)
    assert plan.energy_wh <= plan.bound_wh


def test_an_lp_the_interior_point_method_leaves_unsolved_is_solved_by_the_simplex(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The interior point method stopped after two iterations (as it stops short of its
    tolerances on the family's depot-7029): the simplex method solves the same LP, to the
    plan the interior point method finds when it is let finish; stopped as well, the
    error names HiGHS's status."""
    scenario = apply_options(small(), ReplayOptions(min_current_a=0.0))
    timeline = build_timeline(scenario, 300.0)
    whole = plan_offline(scenario, timeline)
    monkeypatch.setattr(solve, "LP_OPTIONS", {**solve.LP_OPTIONS, "ipm_iteration_limit": 2})
    recovered = plan_offline(scenario, timeline)
    assert recovered.energy_wh == pytest.approx(whole.energy_wh, rel=1e-6)
    monkeypatch.setattr(solve, "FALLBACK_OPTIONS", {"simplex_iteration_limit": 2})
    with pytest.raises(OfflineSolveError, match="Iteration limit"):
        plan_offline(scenario, timeline)


def test_the_mip_keeps_the_minimum_and_bounds_optimal_at_it() -> None:
    """At the small scenario's 6 A minimum: the MIP's bound lies between its plan and the
    LP's bound, and above what `optimal` delivers; its plan falls short of the minimum
    only by the shortfall a session may have in the steps its need is met in."""
    scenario = small()
    timeline = build_timeline(scenario, 300.0)
    lp = plan_offline(scenario, timeline)
    mip = plan_offline(scenario, timeline, MipOptions(time_limit_s=30.0, rel_gap=1e-3))
    assert mip.energy_wh <= mip.bound_wh <= lp.bound_wh
    assert mip.bound_wh <= mip.energy_wh * 1.001
    optimal_wh = 1000.0 * compute_kpis(replay(scenario, "optimal")).energy_delivered_kwh
    assert optimal_wh <= mip.bound_wh
    current = mip.current_a
    below = (current > 1e-6) & (current < 6.0 - 1e-6)
    assert (6.0 - current[below]).sum() <= 6.0 * len(scenario.sessions)


def test_long_scenarios_are_solved_a_day_at_a_time_with_carry_over() -> None:
    """Three days of the small scenario: three chunks, each delivering what one day does."""
    one_day = small()
    days = [
        replace(
            s,
            session_id=f"{s.session_id}-d{d}",
            arrival=s.arrival + timedelta(days=d),
            departure=s.departure + timedelta(days=d),
        )
        for d in range(3)
        for s in one_day.sessions
    ]
    three_days = replace(one_day, sessions=tuple(days), base_load=())
    timeline = build_timeline(three_days, 300.0)
    plan = plan_offline(three_days, timeline)
    assert len(plan.solve_ms) == 2
    kpis = compute_kpis(replay(three_days, "offline"))
    single = compute_kpis(replay(replace(one_day, base_load=()), "offline"))
    assert kpis.energy_delivered_kwh == pytest.approx(3 * single.energy_delivered_kwh, rel=1e-3)
    assert kpis.limit_violation_steps == 0


# A fresh interpreter: HiGHS's thread scheduler is per process and set by the first solve,
# so only a process whose first solve is the offline bound's shows the conflict.
_OFFLINE_THEN_CONTROLLER = """
from ems.replay import compute_kpis, replay
from ems.replay.synthetic import small
from optimizer import Problem, SiteLimits, solve
from tests.optimizer.helpers import ev

replay(small(), "offline")
print(solve(Problem(SiteLimits(32.0), (ev("a"), ev("b")))).status.value)
print(compute_kpis(replay(small(), "optimal")).energy_delivered_kwh)
"""


def test_the_offline_bound_leaves_the_solver_working_in_the_same_process() -> None:
    """`ems compare --strategies offline,optimal` once ran the controller on its
    equal-share fallback: the offline LP had set HiGHS's scheduler to another thread count."""
    fresh = subprocess.run(
        [sys.executable, "-c", _OFFLINE_THEN_CONTROLLER],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    # The last two lines: HiGHS prints its banner on the first instance in a process.
    status, energy_kwh = fresh.stdout.splitlines()[-2:]
    assert status == "optimal"
    expected = compute_kpis(replay(small(), "optimal")).energy_delivered_kwh
    assert float(energy_kwh) == expected
