"""The HiGHS LP of a built Pyomo model, read constraint by constraint: the reference.

Reads the variables, the constraint rows (with their coefficients, parameters
evaluated), the bounds and the objective of a linear Pyomo model, in Pyomo's order, into
a `highspy.HighsLp`, with maps from Pyomo components to indices. The solver lays the
same LP out directly from numpy (`optimizer.lp_matrix`); the tests compare the two.
"""

from __future__ import annotations

import math
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap
from pyomo.repn import generate_standard_repn

IntArray = np.ndarray[Any, np.dtype[np.int32]]


def _value_or(bound: Any, default: float) -> float:
    return default if bound is None else float(pyo.value(bound))


class HighsMirror:
    """The HiGHS copy of a Pyomo model; `col` and `row` give a component's index."""

    def __init__(self, model: Any) -> None:
        variables = list(model.component_data_objects(pyo.Var, active=True))
        self._col_of: ComponentMap = ComponentMap((v, j) for j, v in enumerate(variables))
        self._row_of: ComponentMap = ComponentMap()
        starts: list[int] = [0]
        indices: list[int] = []
        values: list[float] = []
        row_lower: list[float] = []
        row_upper: list[float] = []
        for con in model.component_data_objects(pyo.Constraint, active=True):
            repn = generate_standard_repn(con.body, compute_values=False)
            offset = float(pyo.value(repn.constant))
            indices.extend(self._col_of[v] for v in repn.linear_vars)
            values.extend(float(pyo.value(a)) for a in repn.linear_coefs)
            starts.append(len(indices))
            row_lower.append(_value_or(con.lower, -math.inf) - offset)
            row_upper.append(_value_or(con.upper, math.inf) - offset)
            self._row_of[con] = len(row_lower) - 1
        cost = np.zeros(len(variables))
        objective = next(model.component_data_objects(pyo.Objective, active=True))
        repn = generate_standard_repn(objective.expr, compute_values=True)
        for v, a in zip(repn.linear_vars, repn.linear_coefs, strict=True):
            cost[self._col_of[v]] += float(a)

        lp = highspy.HighsLp()
        lp.num_col_ = len(variables)
        lp.num_row_ = len(row_lower)
        lp.col_cost_ = cost
        lp.col_lower_ = np.array([_value_or(v.lb, -math.inf) for v in variables])
        lp.col_upper_ = np.array([_value_or(v.ub, math.inf) for v in variables])
        lp.row_lower_ = np.array(row_lower)
        lp.row_upper_ = np.array(row_upper)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.num_col_ = lp.num_col_
        lp.a_matrix_.num_row_ = lp.num_row_
        lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.array(indices, dtype=np.int32)
        lp.a_matrix_.value_ = np.array(values)
        self.lp = lp

    def col(self, var: Any) -> int:
        return int(self._col_of[var])

    def row(self, con: Any) -> int:
        """Row of a constraint, or -1 for one the recipe skipped (an empty row)."""
        return int(self._row_of[con]) if con in self._row_of else -1

    def cols(self, indexed_var: Any, keys: list[Any]) -> IntArray:
        return np.array([self.col(indexed_var[k]) for k in keys], dtype=np.int32)

    def rows(self, indexed_con: Any, keys: list[Any]) -> IntArray:
        return np.array(
            [self.row(indexed_con[k]) if k in indexed_con else -1 for k in keys], dtype=np.int32
        )
