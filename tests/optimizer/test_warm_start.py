"""A plan starts from the last plan's basis, mapped by key, and plans what a cold start does."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import highspy
import numpy as np
import pytest

from optimizer import Circuit, Lookahead, Phase, Problem, SiteLimits, Solver, solve
from optimizer.lookahead import PlanMemory
from optimizer.persistent import HIGHS, RUN_TIME_LIMIT_S, SOLVER_OPTIONS
from optimizer.warm_start import BASIC, LOWER, NO_KEY, KeyedBasis, among, keys
from tests.optimizer.helpers import START, ev

STEP_S = 300.0


def _lp() -> Any:
    """max x + 2y subject to x + y <= 4, x + 3y <= 6, 0 <= x, y <= 3 (optimum x = 3, y = 1)."""
    highs = HIGHS()
    for name, option in SOLVER_OPTIONS.items():  # the process's thread count, see HIGHS_THREADS
        highs.setOptionValue(name, option)
    highs.addVars(2, np.zeros(2), np.full(2, 3.0))
    highs.changeColsCost(2, np.arange(2, dtype=np.int32), np.array([-1.0, -2.0]))
    highs.addRows(
        2,
        np.full(2, -highspy.kHighsInf),
        np.array([4.0, 6.0]),
        4,
        np.array([0, 2], dtype=np.int32),
        np.array([0, 1, 0, 1], dtype=np.int32),
        np.array([1.0, 1.0, 1.0, 3.0]),
    )
    return highs


def test_a_basis_carried_to_the_same_lp_by_key_solves_it_without_an_iteration() -> None:
    cols, rows = keys(0, np.arange(2), 0), keys(1, np.arange(2), 0)
    solved = _lp()
    solved.run()
    basis = KeyedBasis.of(solved, cols, rows)
    assert basis is not None
    again = _lp()
    assert basis.start(again, cols, rows)
    again.run()
    assert again.getInfo().simplex_iteration_count == 0
    assert again.getSolution().col_value == pytest.approx([3.0, 1.0])


def test_what_has_no_counterpart_starts_as_a_nonbasic_column_or_a_basic_row() -> None:
    basis = KeyedBasis(
        col_keys=keys(0, np.arange(2), 0),
        col_status=np.array([BASIC, BASIC], dtype=np.int8),
        row_keys=keys(1, np.arange(1), 0),
        row_status=np.array([LOWER], dtype=np.int8),
    )
    wanted = np.concatenate([keys(0, np.array([1, 5]), 0), [NO_KEY]])
    assert basis.status_of(keys(1, np.array([0, 3]), 0)).tolist() == [LOWER, BASIC]
    assert keys(0, 1, -1) == NO_KEY
    assert basis.start(_lp(), wanted[:2], keys(1, np.array([0, 3]), 0))


def _garage(step: int) -> Problem:
    """Six 1-phase EVs on L1 behind a 40 A circuit with more need than it can give before
    they leave, at a 6 A minimum, `step` steps after START."""
    now = START + timedelta(seconds=step * STEP_S)
    evs = [
        ev(
            f"ev{i}",
            (Phase.L1,),
            max_a=16.0,
            circuit="row",
            min_current_a=6.0,
            departure=START + timedelta(hours=2 + i),
            energy_need_wh=12_000.0 - 1_000.0 * i,
        )
        for i in range(6)
    ]
    return Problem(
        site=SiteLimits(63.0),
        connectors=tuple(evs),
        circuits=(Circuit("row", 40.0),),
        lookahead=Lookahead(now, STEP_S),
    )


def test_a_solver_planning_step_after_step_plans_what_a_fresh_one_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[bool] = []
    start = PlanMemory.start

    def recorded(memory: PlanMemory, lp: Any, key: Any) -> bool:
        started.append(start(memory, lp, key))
        return started[-1]

    monkeypatch.setattr(PlanMemory, "start", recorded)
    solver = Solver()
    for step in range(4):
        problem = _garage(step)
        carried = solver.solve(problem).by_id()
        cold = solve(problem).by_id()
        for name, allocation in cold.items():
            assert carried[name].now_a == pytest.approx(allocation.now_a, abs=1e-6)
    # the fresh solvers start cold; the one planning step after step from its last plan
    assert started.count(True) == 3


def test_among_finds_the_keys_np_isin_finds() -> None:
    """The binary search that finds the tail rows carried from the last plan agrees with
    np.isin on keys of any shape, with no key, and with none known."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        wanted = keys(3, rng.integers(0, 5, size=(4, 1)), rng.integers(-1, 6, size=(1, 6)))
        known = keys(3, rng.integers(0, 5, size=rng.integers(0, 5)), int(rng.integers(0, 6)))
        assert (among(wanted, known) == np.isin(wanted, known)).all()


def test_each_plan_has_the_whole_time_limit_in_the_instance_plans_share() -> None:
    """HiGHS counts `time_limit` against its instance's run time summed over every run: a
    limit left where it was would stop plans once the earlier ones had used it up."""
    memory = PlanMemory()
    highs = memory.empty_highs()
    highs.addVars(1, np.zeros(1), np.ones(1))
    highs.changeColsCost(1, np.zeros(1, dtype=np.int32), np.array([-1.0]))
    highs.run()
    assert memory.empty_highs() is highs
    assert highs.getNumCol() == 0
    assert highs.getRunTime() > 0.0
    _, limit_s = highs.getOptionValue("time_limit")
    assert limit_s == pytest.approx(highs.getRunTime() + RUN_TIME_LIMIT_S)
