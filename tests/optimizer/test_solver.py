"""Hand-checkable allocations."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from optimizer import (
    Circuit,
    Connector,
    ConnectorState,
    Horizon,
    Lookahead,
    PauseReason,
    Phase,
    Problem,
    SiteLimits,
    Solver,
    SolveStatus,
    solve,
)
from tests.optimizer.helpers import START, THREE, ev


def test_two_three_phase_connectors_share_what_base_load_leaves() -> None:
    problem = Problem(
        site=SiteLimits(32.0), base_load_a=(10.0, 10.0, 10.0), connectors=(ev("a"), ev("b"))
    )
    result = solve(problem)
    assert result.status is SolveStatus.OPTIMAL
    assert [c.now_a for c in result.connectors] == pytest.approx([11.0, 11.0])
    assert result.connectors[0].power_w[0] == pytest.approx(11.0 * 230.0 * 3)
    assert result.site_current_a[0] == pytest.approx((32.0, 32.0, 32.0))
    assert set(result.binding) == {"site-L1", "site-L2", "site-L3"}


def test_one_phase_ev_on_l2_leaves_l1_and_l3_alone() -> None:
    problem = Problem(
        site=SiteLimits(32.0),
        base_load_a=(0.0, 20.0, 0.0),
        connectors=(ev("single", phases=(Phase.L2,)), ev("three")),
    )
    by_id = solve(problem).by_id()
    assert by_id["single"].now_a == pytest.approx(6.0)
    assert by_id["three"].now_a == pytest.approx(6.0)
    assert by_id["single"].phase_current_a[0] == pytest.approx((0.0, 6.0, 0.0))
    assert by_id["single"].power_w[0] == pytest.approx(6.0 * 230.0)


def test_ev_using_fewer_phases_than_its_connector() -> None:
    problem = Problem(
        site=SiteLimits(16.0),
        base_load_a=(0.0, 0.0, 0.0),
        connectors=(ev("a", ev_phases=(Phase.L3,)), ev("b", phases=(Phase.L1,))),
    )
    by_id = solve(problem).by_id()
    assert by_id["a"].phase_current_a[0] == pytest.approx((0.0, 0.0, 16.0))
    assert by_id["b"].phase_current_a[0] == pytest.approx((16.0, 0.0, 0.0))


def test_three_minimums_on_sixteen_amps_pause_one_with_a_reason() -> None:
    problem = Problem(site=SiteLimits(16.0), connectors=(ev("a"), ev("b"), ev("c")))
    result = solve(problem)
    currents = sorted(c.now_a for c in result.connectors)
    assert currents == pytest.approx([0.0, 8.0, 8.0])
    paused = [c for c in result.connectors if c.state is ConnectorState.PAUSED]
    assert len(paused) == 1
    assert paused[0].connector_id == "c"
    assert paused[0].reason is PauseReason.INSUFFICIENT_CAPACITY


def test_pausing_follows_priority_then_departure_then_arrival() -> None:
    later = START + timedelta(hours=8)
    problem = Problem(
        site=SiteLimits(12.0),
        connectors=(
            ev("a", arrival=START),
            ev("b", priority=2.0),
            ev("c", departure=later, arrival=START + timedelta(hours=1)),
        ),
    )
    by_id = solve(problem).by_id()
    assert by_id["b"].state is ConnectorState.CHARGING
    assert by_id["c"].state is ConnectorState.CHARGING
    assert by_id["a"].reason is PauseReason.INSUFFICIENT_CAPACITY


def test_circuit_caps_its_own_connectors_only() -> None:
    problem = Problem(
        site=SiteLimits(63.0),
        circuits=(Circuit("c1", 16.0),),
        connectors=(ev("a", circuit="c1"), ev("b", circuit="c1"), ev("c")),
    )
    result = solve(problem)
    by_id = result.by_id()
    assert by_id["a"].now_a == pytest.approx(8.0)
    assert by_id["b"].now_a == pytest.approx(8.0)
    assert by_id["c"].now_a == pytest.approx(32.0)
    assert "circuit-c1-L1" in result.binding
    assert "connector-c-max" in result.binding


def test_nested_circuits_cap_every_level() -> None:
    problem = Problem(
        site=SiteLimits(100.0),
        circuits=(Circuit("feeder", 40.0), Circuit("garage", 16.0, parent="feeder")),
        connectors=(
            ev("a", circuit="garage"),
            ev("b", circuit="garage"),
            ev("c", circuit="feeder"),
        ),
    )
    by_id = solve(problem).by_id()
    assert by_id["a"].now_a == pytest.approx(8.0)
    assert by_id["b"].now_a == pytest.approx(8.0)
    assert by_id["c"].now_a == pytest.approx(24.0)


def test_ev_below_fair_share_does_not_cap_the_others() -> None:
    problem = Problem(
        site=SiteLimits(40.0),
        connectors=(ev("slow", ev_max_current_a=7.0), ev("b"), ev("c")),
    )
    by_id = solve(problem).by_id()
    assert by_id["slow"].now_a == pytest.approx(7.0)
    assert by_id["b"].now_a == pytest.approx(16.5)
    assert by_id["c"].now_a == pytest.approx(16.5)


def test_priority_weights_scale_the_share() -> None:
    problem = Problem(site=SiteLimits(30.0), connectors=(ev("a", priority=2.0), ev("b")))
    by_id = solve(problem).by_id()
    assert by_id["a"].now_a == pytest.approx(20.0)
    assert by_id["b"].now_a == pytest.approx(10.0)


def test_power_cap_limits_total_power() -> None:
    problem = Problem(
        site=SiteLimits(63.0, power_limit_w=3 * 230.0 * 20.0),
        base_load_a=(2.0, 2.0, 2.0),
        connectors=(ev("a"), ev("b")),
    )
    result = solve(problem)
    assert [c.now_a for c in result.connectors] == pytest.approx([9.0, 9.0])
    assert "site-power" in result.binding


def test_rotated_connector_reports_site_phases() -> None:
    rotated = (Phase.L2, Phase.L3, Phase.L1)
    problem = Problem(
        site=SiteLimits(20.0),
        base_load_a=(0.0, 10.0, 0.0),
        connectors=(ev("a", phases=rotated, ev_phases=(Phase.L2,)), ev("b", phases=(Phase.L1,))),
    )
    by_id = solve(problem).by_id()
    assert by_id["a"].phase_current_a[0] == pytest.approx((0.0, 10.0, 0.0))
    assert by_id["b"].now_a == pytest.approx(20.0)


def test_idle_and_special_pauses() -> None:
    problem = Problem(
        site=SiteLimits(32.0),
        connectors=(
            Connector("idle", THREE, 32.0),
            ev("weak", ev_max_current_a=4.0),
            ev("full", energy_need_wh=0.0),
            ev("ok"),
        ),
    )
    by_id = solve(problem).by_id()
    assert by_id["idle"].state is ConnectorState.IDLE
    assert by_id["idle"].now_a == 0.0
    assert by_id["weak"].reason is PauseReason.EV_LIMIT_BELOW_MIN
    assert by_id["full"].reason is PauseReason.ENERGY_MET
    assert by_id["ok"].now_a == pytest.approx(32.0)


def test_base_load_over_the_limit_falls_back_to_zero() -> None:
    problem = Problem(
        site=SiteLimits(32.0), base_load_a=(40.0, 0.0, 0.0), connectors=(ev("a"), ev("b"))
    )
    result = solve(problem)
    assert result.status is SolveStatus.FALLBACK_INFEASIBLE
    assert all(c.now_a == 0.0 for c in result.connectors)
    assert all(c.reason is PauseReason.INSUFFICIENT_CAPACITY for c in result.connectors)


def test_no_connectors() -> None:
    result = solve(Problem(site=SiteLimits(32.0), connectors=()))
    assert result.status is SolveStatus.OPTIMAL
    assert result.connectors == ()
    assert result.site_current_a == ((0.0, 0.0, 0.0),)


def _horizon(steps: int, **kw: object) -> Horizon:
    return Horizon(start=START, step_s=3600.0, steps=steps, **kw)  # type: ignore[arg-type]


def test_horizon_meets_need_before_departure() -> None:
    need_wh = 2 * 230.0 * 3 * 10.0
    problem = Problem(
        site=SiteLimits(32.0),
        connectors=(
            # No minimum: a later step below one would be planned at 0 (tested below).
            ev(
                "a",
                max_a=16.0,
                min_current_a=0.0,
                departure=START + timedelta(hours=2),
                energy_need_wh=need_wh,
            ),
        ),
        horizon=_horizon(4),
    )
    result = solve(problem)
    a = result.connectors[0]
    delivered = sum(p * 1.0 for p in a.power_w)
    assert delivered == pytest.approx(need_wh)
    assert a.current_a[2:] == (0.0, 0.0)
    assert a.current_a[0] == pytest.approx(16.0)


def test_prices_shift_load_to_cheap_steps() -> None:
    need_wh = 230.0 * 3 * 16.0 * 2
    problem = Problem(
        site=SiteLimits(32.0),
        connectors=(ev("a", max_a=16.0, energy_need_wh=need_wh),),
        horizon=_horizon(4, price_per_kwh=(0.40, 0.10, 0.40, 0.10)),
    )
    a = solve(problem).connectors[0]
    assert a.current_a == pytest.approx((6.0, 16.0, 0.0, 10.0))


def test_prices_too_small_to_mean_anything_are_left_out() -> None:
    """A subnormal price once overflowed the money scaling into NaN costs."""
    need_wh = 230.0 * 3 * 16.0 * 2
    connectors = (ev("a", max_a=16.0, energy_need_wh=need_wh),)
    tiny = Problem(
        site=SiteLimits(32.0),
        connectors=connectors,
        horizon=_horizon(4, price_per_kwh=(0.0, 2.2e-309, 0.0, 0.0)),
    )
    unpriced = Problem(site=SiteLimits(32.0), connectors=connectors, horizon=_horizon(4))
    result = solve(tiny)
    assert result.status is SolveStatus.OPTIMAL
    assert result.connectors[0].current_a == pytest.approx(solve(unpriced).connectors[0].current_a)


def test_need_met_later_gets_energy_binding() -> None:
    need_wh = 230.0 * 3 * 10.0
    problem = Problem(
        site=SiteLimits(32.0),
        connectors=(ev("a", energy_need_wh=need_wh),),
        horizon=_horizon(3),
    )
    result = solve(problem)
    assert result.connectors[0].current_a == pytest.approx((10.0, 0.0, 0.0))
    assert "connector-a-energy" in result.binding


def test_horizon_limits_and_base_load_per_step() -> None:
    problem = Problem(
        site=SiteLimits(32.0),
        connectors=(ev("a"), ev("b")),
        horizon=_horizon(
            2, base_load_a=((10.0, 10.0, 10.0), (0.0, 0.0, 0.0)), phase_limit_a=(32.0, 20.0)
        ),
    )
    result = solve(problem)
    assert [c.current_a for c in result.connectors] == [
        pytest.approx((11.0, 10.0)),
        pytest.approx((11.0, 10.0)),
    ]
    assert result.site_current_a[1] == pytest.approx((20.0, 20.0, 20.0))


def test_previous_allocation_breaks_ties() -> None:
    need_wh = 230.0 * 3 * 16.0
    # No minimum: the 2 A `a` is planned later would be 0 under a 6 A one.
    sessions = (
        ev("a", energy_need_wh=need_wh, previous_current_a=14.0, min_current_a=0.0),
        ev("b", energy_need_wh=need_wh, previous_current_a=6.0, min_current_a=0.0),
    )
    problem = Problem(site=SiteLimits(20.0), connectors=sessions, horizon=_horizon(2))
    by_id = solve(problem).by_id()
    assert by_id["a"].current_a == pytest.approx((14.0, 2.0), abs=1e-6)
    assert by_id["b"].current_a == pytest.approx((6.0, 10.0), abs=1e-6)
    swapped = Problem(
        site=SiteLimits(20.0),
        connectors=(
            ev("a", energy_need_wh=need_wh, previous_current_a=6.0),
            ev("b", energy_need_wh=need_wh, previous_current_a=14.0),
        ),
        horizon=_horizon(2),
    )
    by_id = solve(swapped).by_id()
    assert by_id["a"].current_a[0] == pytest.approx(6.0, abs=1e-6)
    assert by_id["b"].current_a[0] == pytest.approx(14.0, abs=1e-6)


def test_persistent_solver_matches_fresh_solves() -> None:
    solver = Solver()
    base = Problem(
        site=SiteLimits(32.0), connectors=(ev("a"), ev("b"), Connector("c", THREE, 32.0))
    )
    steps = [
        base,
        Problem(site=SiteLimits(32.0), base_load_a=(5.0, 9.0, 3.0), connectors=base.connectors),
        Problem(
            site=SiteLimits(32.0),
            connectors=(ev("a", ev_phases=(Phase.L1,)), ev("b"), ev("c", ev_max_current_a=10.0)),
        ),
        Problem(site=SiteLimits(16.0), connectors=(ev("a"), ev("b"), ev("c"))),
        base,
    ]
    for problem in steps:
        warm = solver.solve(problem)
        cold = solve(problem)
        assert [c.current_a for c in warm.connectors] == [
            pytest.approx(c.current_a) for c in cold.connectors
        ]
        assert warm.binding == cold.binding
        assert [c.state for c in warm.connectors] == [c.state for c in cold.connectors]


def test_persistent_solver_keeps_the_model_while_the_shape_holds() -> None:
    solver = Solver()
    solver.solve(Problem(site=SiteLimits(32.0), connectors=(ev("a"), ev("b"))))
    model = solver.model
    solver.solve(
        Problem(site=SiteLimits(20.0), base_load_a=(1.0, 2.0, 3.0), connectors=(ev("a"), ev("b")))
    )
    assert solver.model is model
    solver.solve(Problem(site=SiteLimits(20.0), connectors=(ev("a"), ev("b"), ev("c"))))
    assert solver.model is not model


def test_a_shape_that_comes_back_starts_from_its_built_lp_without_pyomo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from optimizer import persistent

    two = Problem(site=SiteLimits(32.0), connectors=(ev("a"), ev("b")))
    three = Problem(site=SiteLimits(20.0), connectors=(ev("a"), ev("b"), ev("c")))
    back = Problem(site=SiteLimits(20.0), base_load_a=(1.0, 2.0, 3.0), connectors=two.connectors)
    solver = Solver()
    solver.solve(two)
    solver.solve(three)
    builds: list[object] = []
    real = persistent.build_lp
    monkeypatch.setattr(persistent, "build_lp", lambda *a: builds.append(a) or real(*a))
    warm = solver.solve(back)
    assert builds == []
    cold = solve(back)
    assert [c.current_a for c in warm.connectors] == [c.current_a for c in cold.connectors]
    assert warm.binding == cold.binding


def test_solver_failure_returns_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    from optimizer import persistent

    def broken(self: object) -> object:
        raise persistent.SolverFailure("numerical trouble")

    monkeypatch.setattr(persistent.PersistentModel, "solve", broken)
    result = Solver().solve(Problem(site=SiteLimits(16.0), connectors=(ev("a"), ev("b"), ev("c"))))
    assert result.status is SolveStatus.FALLBACK_SOLVER_ERROR
    assert sorted(c.now_a for c in result.connectors) == pytest.approx([0.0, 8.0, 8.0])


def test_a_later_step_between_zero_and_the_minimum_is_planned_at_zero() -> None:
    """The later steps are the LP relaxation: with 4 A left at the second step, it would
    plan 4 A for a session whose minimum is 6 A, a period no EV can follow. It is 0; the
    first step and a later step at or above the minimum are kept."""
    need_wh = 230.0 * 3 * 16.0 * 4
    problem = Problem(
        site=SiteLimits(32.0),
        connectors=(ev("a", max_a=16.0, min_current_a=6.0, energy_need_wh=need_wh),),
        horizon=_horizon(3, phase_limit_a=(32.0, 4.0, 6.0)),
    )
    result = solve(problem)
    assert result.connectors[0].current_a == pytest.approx((16.0, 0.0, 6.0))


def test_a_minimum_within_the_solvers_noise_of_zero_is_none() -> None:
    """A plan at 0 for a session with a minimum of 1.2e-7 A counted as charging at that
    minimum, and held it above a site limit of 0: an infeasible LP and the fallback."""
    leaving = START + timedelta(minutes=1)
    session = Connector(
        id="x",
        phases=THREE,
        max_current_a=1.0,
        min_current_a=1.192092896e-07,
        ev_present=True,
        arrival=START,
        departure=leaving,
        energy_need_wh=1.0,
    )
    idle = Connector(
        id="idle", phases=(Phase.L1,), max_current_a=0.0, min_current_a=0.0, ev_present=False
    )
    problem = Problem(
        site=SiteLimits(0.0),
        connectors=(idle, session),
        lookahead=Lookahead(start=START, step_s=300.0),
    )
    result = solve(problem)
    assert result.status is SolveStatus.OPTIMAL
    assert [c.current_a for c in result.connectors] == [(0.0,), (0.0,)]


def test_a_model_kept_for_days_solves_after_its_runs_add_up_past_the_time_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HiGHS counts its time limit against an instance's run time summed over every run,
    and a site's solver keeps one model (one instance) from step to step while its layout
    stands. With the limit at 0.5 s, solves from no basis whose runs add up to twice that
    all find the optimum (before, every solve after the first 0.5 s hit the limit, and the
    controller fell back to its equal shares)."""
    from optimizer import persistent

    monkeypatch.setattr(persistent, "RUN_TIME_LIMIT_S", 0.5)
    connectors = tuple(
        ev(f"c{i}", max_a=16.0 + i % 16, departure=START + timedelta(hours=20 + i % 4))
        for i in range(24)
    )
    horizon = _horizon(96, price_per_kwh=tuple(0.1 + 0.05 * (t % 7) for t in range(96)))
    solver = Solver()
    solver.solve(Problem(site=SiteLimits(60.0), connectors=connectors, horizon=horizon))
    model = solver.model
    assert model is not None
    first = model.solve()
    for _ in range(2_000):
        if model.highs.getRunTime() > 1.0:
            break
        model.highs.clearSolver()
        assert np.array_equal(model.solve(), first)
    assert model.highs.getRunTime() > 1.0
