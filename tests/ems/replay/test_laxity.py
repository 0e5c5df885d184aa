from __future__ import annotations

import math
from datetime import timedelta

import pytest

from ems.replay.laxity import LaxityWeightedSolver
from optimizer.allocation import Allocation, SolveStatus
from optimizer.problem import Connector, Phase, Problem, SiteLimits

from .conftest import START, THREE


class _Recorder:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def solve(self, problem: Problem) -> Allocation:
        self.problems.append(problem)
        return Allocation(SolveStatus.OPTIMAL, (), (), 0.0, ())


def _problem(*connectors: Connector) -> Problem:
    return Problem(SiteLimits(63.0), connectors)


def _ev(key: str, need_kwh: float, hours: float, phases: tuple[Phase, ...] = THREE) -> Connector:
    return Connector(
        key,
        phases,
        16.0,
        ev_present=True,
        departure=START + timedelta(hours=hours),
        energy_need_wh=need_kwh * 1000.0,
    )


def test_weight_is_the_current_needed_to_finish_in_time() -> None:
    inner = _Recorder()
    solver = LaxityWeightedSolver(inner, 230.0, 300.0)
    solver.now = START
    solver.solve(_problem(_ev("a", 6.9, 2.0), _ev("b", 6.9, 1.0), _ev("c", 1.0, 10.0)))
    weights = [c.priority for c in inner.problems[0].connectors]
    assert weights[0] == pytest.approx(5.0 * math.sqrt(3))
    assert weights[1] == pytest.approx(10.0 * math.sqrt(3))
    assert weights[2] == pytest.approx(0.05 * 16.0 * math.sqrt(3))


def test_without_a_need_or_a_clock_the_problem_is_passed_unchanged() -> None:
    inner = _Recorder()
    solver = LaxityWeightedSolver(inner, 230.0, 300.0)
    unknown = Connector("x", THREE, 16.0, ev_present=True)
    problem = _problem(unknown, _ev("a", 6.9, 2.0))
    solver.solve(problem)
    assert inner.problems[0] is problem
    solver.now = START
    solver.solve(problem)
    assert inner.problems[1].connectors[0] == unknown
