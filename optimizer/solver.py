"""The allocation solver: `Solver().solve(problem) -> Allocation`.

A Solver keeps one built model per problem shape (see `layout`) and between calls only
pushes the new numbers into it (see `persistent`); the LPs built for the last
`BUILT_KEPT` shapes are kept too, so a shape that comes back starts from its LP without
running Pyomo again. One solve is:

1. read the connectors into columns once (`columns`) and validate the problem (invalid
   data raises ProblemError);
2. if base load alone exceeds a site limit at some step, return the fallback;
3. decide who is paused (`admission`), compute the fair shares (`fairness`) and the LP
   numbers (`lp_data`); with a `lookahead` (and no horizon), plan the step against the
   sessions' departures (`lookahead`, from the basis of the Solver's last plan), which
   also decides who of them charges now (0 or at least the minimum), and give each at
   least its planned current;
4. update the persistent LP and re-solve it warm; on any solver trouble return the
   fallback (`fallback.equal_share`) with status FALLBACK_SOLVER_ERROR;
5. assemble the Allocation with the binding constraints of the first step.

With a horizon, the minimum current and the pause rule bind at the first step (the one
applied now); later steps are the LP relaxation (0 up to the maximum), a plan that is
re-solved before it is applied. At every step, and in the fallback too, a current
between 0 and a session's minimum is set to 0 (`assemble.below_minimum_to_zero`).
`binding` names first-step rows and the energy needs met over the horizon.
"""

from __future__ import annotations

import time

import numpy as np

from optimizer.admission import Admission, admission_of, admit
from optimizer.allocation import Allocation, SolveStatus
from optimizer.assemble import allocation_of, below_minimum_to_zero, binding_names, clean
from optimizer.columns import columns_of
from optimizer.fallback import equal_share_of
from optimizer.layout import Layout, layout_of
from optimizer.lookahead import UNDECIDED_A, PlanMemory, plan_now
from optimizer.lp_data import LpData, fair_now, infeasible_steps, lp_data_of
from optimizer.parameters import BoolArray, FloatArray, Parameters, parameters_of, row_matrix
from optimizer.persistent import BuiltLp, PersistentModel
from optimizer.problem import Lookahead, Problem
from optimizer.validation import validate_columns

BUILT_KEPT = 4
"""Built LPs kept, one per shape: a shape often comes back (a horizon that appears and
goes, the first session of a day without a previous limit), and building one through
Pyomo costs far more than bringing a kept one to the new numbers. A model started from a
kept LP is solved from no basis, as a fresh build is, so it decides the same."""


class Solver:
    """Solves problems of any shape; re-solves problems of the last shape warm."""

    def __init__(self) -> None:
        self._model: PersistentModel | None = None
        self._plans = PlanMemory()
        """The look-ahead's last plan, which the next starts from."""
        self._built: dict[Layout, BuiltLp] = {}
        """The LPs built for the last `BUILT_KEPT` shapes, the latest used last."""
        self._layout: Layout | None = None
        self._member: BoolArray | None = None
        self._draws: FloatArray | None = None
        self._rows: FloatArray | None = None

    @property
    def model(self) -> PersistentModel | None:
        """The built model of the last shape solved, if any."""
        return self._model

    def _rows_of(self, layout: Layout, params: Parameters) -> FloatArray:
        """The row matrix, rebuilt only when the shape or a connector's phases change."""
        if self._member is None or self._layout != layout:
            self._member = layout.member()
            self._layout = layout
            self._rows = None
        if (
            self._rows is None
            or self._draws is None
            or (self._draws is not params.draws and (self._draws != params.draws).any())
        ):
            self._rows = row_matrix(layout, params, self._member)
            self._draws = params.draws
        return self._rows

    def _solve_lp(self, layout: Layout, data: LpData) -> FloatArray:
        if self._model is not None and self._model.layout == layout:
            self._model.update(data)
        else:
            self._model = None
            self._model = PersistentModel(layout, data, self._built.pop(layout, None))
            self._built[layout] = self._model.built
            while len(self._built) > BUILT_KEPT:
                del self._built[next(iter(self._built))]
        return self._model.solve()

    def solve(self, problem: Problem) -> Allocation:
        """The allocation for `problem`; raises ProblemError only for invalid data."""
        start = time.perf_counter()
        columns = columns_of(problem.connectors)
        validate_columns(problem, columns)
        layout = layout_of(problem, columns)
        params = parameters_of(problem, layout, columns)
        rows = self._rows_of(layout, params)
        if infeasible_steps(params):
            return equal_share_of(layout, params, rows, SolveStatus.FALLBACK_INFEASIBLE, start)
        try:
            admission = admit(params, layout.connector_ids, rows, params.row_rhs[0])
            admission, data = (
                _follow_plan(layout, params, rows, admission, problem.lookahead, self._plans)
                if problem.lookahead is not None and layout.steps == 1
                else (admission, lp_data_of(layout, params, rows, admission))
            )
            if layout.n_connectors:
                current = clean(self._solve_lp(layout, data), data.current_ub)
                current = below_minimum_to_zero(current, params.min_a)
            else:
                current = np.zeros((layout.steps, 0))
        except Exception:
            self._model = None
            self._plans = PlanMemory()
            return equal_share_of(layout, params, rows, SolveStatus.FALLBACK_SOLVER_ERROR, start)
        binding = binding_names(layout, params, rows, current)
        solve_ms = (time.perf_counter() - start) * 1000.0
        return allocation_of(
            layout, params, admission, current, SolveStatus.OPTIMAL, binding, solve_ms
        )


def _follow_plan(
    layout: Layout,
    params: Parameters,
    rows: FloatArray,
    admission: Admission,
    lookahead: Lookahead,
    memory: PlanMemory,
) -> tuple[Admission, LpData]:
    """Admission and LP numbers that give each session at least the look-ahead's plan for
    now (which already chose who charges), and with money no more than it either; where
    there is nothing to plan, `admission` and the LP numbers of the fair shares (those
    `fair_now` computed, not computed again)."""
    at_least = fair_now(params, rows, admission)
    fair = at_least.now_a
    plan = plan_now(params, rows, fair, lookahead, memory)
    if plan is None:
        return admission, lp_data_of(layout, params, rows, admission, shares_a=at_least.shares_a)
    in_plan, current = plan.in_plan, plan.current_a
    charging = current >= params.min_a - UNDECIDED_A
    admitted = np.where(in_plan, charging, admission.admitted)
    following = admission_of(params, admitted)
    floor = np.where(in_plan, np.where(charging, np.maximum(current, params.min_a), 0.0), fair)
    ceiling = np.where(in_plan, floor, np.inf) if plan.priced else None
    return following, lp_data_of(layout, params, rows, following, floor[None, :], ceiling)


def solve(problem: Problem) -> Allocation:
    """Solve one problem with a fresh Solver (no model kept between calls)."""
    return Solver().solve(problem)
