"""A safe allocation computed without the LP solver.

Used when the LP is infeasible or the solver fails. The same admission rule pauses
sessions whose minimums do not fit; the admitted ones get equal per-phase current by
progressive filling within every limit (unit weights), and a share below a session's
minimum (a later step, or a minimum the bounds drop) is 0. At a step where base load
alone already exceeds a site limit, every connector gets 0.
"""

from __future__ import annotations

import time

import numpy as np

from optimizer.admission import admit
from optimizer.allocation import Allocation, SolveStatus
from optimizer.assemble import allocation_of, below_minimum_to_zero, binding_names
from optimizer.columns import columns_of
from optimizer.fairness import fair_shares
from optimizer.layout import Layout, layout_of
from optimizer.lp_data import current_bounds
from optimizer.parameters import BoolArray, FloatArray, Parameters, parameters_of, row_matrix
from optimizer.problem import Problem
from optimizer.validation import validate_columns


def equal_share(
    problem: Problem, status: SolveStatus = SolveStatus.FALLBACK_SOLVER_ERROR
) -> Allocation:
    """The fallback allocation of a problem (validated here), reported with `status`."""
    start = time.perf_counter()
    columns = columns_of(problem.connectors)
    validate_columns(problem, columns)
    layout = layout_of(problem, columns)
    params = parameters_of(problem, layout, columns)
    rows = row_matrix(layout, params, layout.member())
    return equal_share_of(layout, params, rows, status, start)


def equal_share_of(
    layout: Layout, params: Parameters, rows: FloatArray, status: SolveStatus, start: float
) -> Allocation:
    """As `equal_share`, from already computed parameters; `start` is a perf_counter value."""
    over: BoolArray = np.asarray((params.row_rhs < 0.0).any(axis=1))
    first_rhs = np.full_like(params.row_rhs[0], -1.0) if over[0] else params.row_rhs[0]
    admission = admit(params, layout.connector_ids, rows, first_rhs)
    lower, upper = current_bounds(params, admission)
    lower[over] = 0.0
    upper[over] = 0.0
    rhs = np.where(over[:, None], np.maximum(params.row_rhs, 0.0), params.row_rhs)
    shares = fair_shares(rows, rhs, lower, upper, np.ones(layout.n_connectors))
    current = below_minimum_to_zero(shares, params.min_a)
    binding = binding_names(layout, params, rows, current)
    solve_ms = (time.perf_counter() - start) * 1000.0
    return allocation_of(layout, params, admission, current, status, binding, solve_ms)
