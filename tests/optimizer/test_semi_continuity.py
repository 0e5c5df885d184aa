"""A connector's current is 0 or at least its minimum, also where the bounds drop it.

A minimum below `NO_MINIMUM_BELOW_A` is none to the LP and the fallback, so a limit of a
few µA let a current through below the session's stated minimum; so did the fallback's
later steps. The problems are hypothesis's falsifying examples at 600 examples.
"""

from __future__ import annotations

from optimizer import Circuit, Horizon, Phase, Problem, SiteLimits, SolveStatus, solve
from tests.optimizer.helpers import START, ev


def test_a_power_cap_below_a_tiny_minimum_gives_zero() -> None:
    """The power cap allows 4.53e-5 A a phase, less than the 6.1e-5 A minimum."""
    problem = Problem(
        site=SiteLimits(1.0, power_limit_w=0.03125),
        connectors=(ev("cp0", max_a=1.0, min_current_a=6.103515625e-05, arrival=START),),
    )
    result = solve(problem)
    assert result.status is SolveStatus.OPTIMAL
    assert result.connectors[0].now_a == 0.0


def test_an_ev_maximum_below_a_tiny_minimum_gives_zero() -> None:
    problem = Problem(
        site=SiteLimits(0.0),
        connectors=(
            ev(
                "cp0",
                (Phase.L1,),
                max_a=1.0,
                min_current_a=1e-05,
                ev_max_current_a=5.960464477539063e-08,
                arrival=START,
            ),
        ),
    )
    assert solve(problem).connectors[0].now_a == 0.0


def test_a_horizon_limit_below_a_tiny_minimum_gives_zero_now() -> None:
    """The first step's limit allows 1.19e-7 A, less than the 1.78e-5 A minimum."""
    problem = Problem(
        site=SiteLimits(32.0),
        connectors=(ev("cp0", (Phase.L1,), max_a=1.0, min_current_a=1.78e-05, arrival=START),),
        horizon=Horizon(
            start=START,
            step_s=900.0,
            steps=2,
            base_load_a=((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
            price_per_kwh=(0.0, 0.0),
            phase_limit_a=(1.19e-07, 32.0),
        ),
    )
    result = solve(problem)
    assert result.status is SolveStatus.OPTIMAL
    assert result.connectors[0].current_a == (0.0, 1.0)


def test_the_fallback_gives_no_step_below_the_minimum() -> None:
    """Base load over the last step's limit: the fallback, whose first step had a circuit
    limit of 2e-167 A against a 7.09e-4 A minimum."""
    problem = Problem(
        site=SiteLimits(0.0),
        connectors=(
            ev("cp0", max_a=1.0, circuit="c0", min_current_a=0.0007090787146941839, arrival=START),
        ),
        circuits=(Circuit("c0", 2.0130903550273648e-167),),
        horizon=Horizon(
            start=START,
            step_s=900.0,
            steps=3,
            base_load_a=((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
            price_per_kwh=(0.0, 0.0, 0.0),
            phase_limit_a=(1.0, 0.0, 0.0),
        ),
    )
    result = solve(problem)
    assert result.status is SolveStatus.FALLBACK_INFEASIBLE
    assert result.connectors[0].current_a == (0.0, 0.0, 0.0)
