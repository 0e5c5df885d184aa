"""The HiGHS LP of a built linear Pyomo model, read once, with maps back to Pyomo.

Reads the variables, the constraint rows (coefficients with their parameters
evaluated), the bounds and the objective, in Pyomo's order, into a `highspy.HighsLp`.
`col` and `row` give the index of a Pyomo component in it, so that later changes can be
pushed into the HiGHS model by index without touching Pyomo again.

Why a reader of our own rather than Pyomo's HiGHS interface
(`pyomo.contrib.solver.solvers.highs`): that interface builds the same highspy model,
but only through private maps (`_pyomo_var_to_solver_var_map`, ...), drops zero
coefficients (so a row's entries depend on the numbers, not just the shape), and
registers an update helper for every mutable coefficient; it built a day-ahead model of
200 connectors about three times slower than this reader. The reader uses only public
Pyomo API: `component_data_objects` and `generate_standard_repn`.

Every active constraint becomes a row, even one whose coefficients are all zero for
the current numbers, so the rows depend on the model's structure only.
"""

from __future__ import annotations

import math
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.numeric_types import native_numeric_types
from pyomo.repn import generate_standard_repn

from optimizer.parameters import FloatArray

IntArray = np.ndarray[Any, np.dtype[np.int32]]


def _number(value: Any) -> float:
    """A coefficient or bound as a float; constants skip Pyomo's evaluation."""
    if value.__class__ in native_numeric_types:
        return float(value)
    return float(pyo.value(value))


def _bound(value: Any, missing: float) -> float:
    return missing if value is None else _number(value)


class HighsMirror:
    """The HiGHS copy of a Pyomo model (`lp`); `col` and `row` give a component's index.

    Keeps `model` alive: the maps are keyed by the identity of its components.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        variables = list(model.component_data_objects(pyo.Var, active=True))
        self._col_of = {id(v): j for j, v in enumerate(variables)}
        self._row_of: dict[int, int] = {}
        self.lp = highspy.HighsLp()
        self._read_rows(model)
        bounds = [v.bounds for v in variables]
        lp = self.lp
        lp.num_col_ = len(variables)
        lp.col_lower_ = np.array([_bound(lb, -math.inf) for lb, _ in bounds])
        lp.col_upper_ = np.array([_bound(ub, math.inf) for _, ub in bounds])
        self._read_objective(model)

    def _read_rows(self, model: Any) -> None:
        col_of = self._col_of
        starts: list[int] = [0]
        indices: list[int] = []
        values: list[float] = []
        lower: list[float] = []
        upper: list[float] = []
        for con in model.component_data_objects(pyo.Constraint, active=True):
            repn = generate_standard_repn(con.body, compute_values=False, quadratic=False)
            if repn.nonlinear_expr is not None:
                raise ValueError(f"constraint {con.name} is not linear")
            offset = _number(repn.constant)
            indices.extend(col_of[id(v)] for v in repn.linear_vars)
            values.extend(_number(a) for a in repn.linear_coefs)
            starts.append(len(indices))
            self._row_of[id(con)] = len(lower)
            lower.append(_bound(con.lower, -math.inf) - offset)
            upper.append(_bound(con.upper, math.inf) - offset)
        lp = self.lp
        lp.num_row_ = len(lower)
        lp.row_lower_ = np.array(lower)
        lp.row_upper_ = np.array(upper)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_ = len(self._col_of)
        lp.a_matrix_.num_row_ = len(lower)
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(indices, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(values)

    def _read_objective(self, model: Any) -> None:
        objective = next(model.component_data_objects(pyo.Objective, active=True))
        self.lp.col_cost_, self.lp.offset_ = self._linear(objective)
        if objective.sense == pyo.maximize:
            self.lp.sense_ = highspy.ObjSense.kMaximize

    def costs(self, objective: Any) -> FloatArray:
        """The cost of every column in `objective`, active or not (a second objective to
        switch to by `changeColsCost`)."""
        return self._linear(objective)[0]

    def _linear(self, objective: Any) -> tuple[FloatArray, float]:
        repn = generate_standard_repn(objective.expr, compute_values=True, quadratic=False)
        if repn.nonlinear_expr is not None:
            raise ValueError(f"objective {objective.name} is not linear")
        cost = np.zeros(len(self._col_of))
        for v, a in zip(repn.linear_vars, repn.linear_coefs, strict=True):
            cost[self._col_of[id(v)]] += _number(a)
        return cost, _number(repn.constant)

    def col(self, var: Any) -> int:
        return self._col_of[id(var)]

    def row(self, con: Any) -> int:
        """Row of a constraint, or -1 for one the model skipped."""
        return self._row_of.get(id(con), -1)

    def cols(self, indexed_var: Any, keys: list[Any]) -> IntArray:
        """Columns of `indexed_var[k]` for each key."""
        return np.array([self._col_of[id(indexed_var[k])] for k in keys], dtype=np.int32)

    def rows(self, indexed_con: Any, keys: list[Any]) -> IntArray:
        """Rows of `indexed_con[k]` for each key; -1 where the model skipped the index."""
        return np.array(
            [self.row(indexed_con[k]) if k in indexed_con else -1 for k in keys], dtype=np.int32
        )
