"""The port through which the controller asks for an allocation."""

from __future__ import annotations

from typing import Protocol

from optimizer.allocation import Allocation
from optimizer.problem import Problem


class AllocationSolver(Protocol):
    """`optimizer.solver.Solver` satisfies this; tests use hand-written fakes.

    A solver keeps its model between calls, so the controller holds one for its lifetime.
    """

    def solve(self, problem: Problem) -> Allocation: ...
