"""The in-place update path keeps the HiGHS model equal to a fresh build of the recipe.

A PersistentModel is built once from Pyomo; later steps change bounds, costs and
coefficients in HiGHS by index. After any sequence of updates, the HiGHS model must be,
array for array, the LP that Pyomo would build for the latest numbers.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import highspy
import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from optimizer.admission import admit
from optimizer.columns import columns_of
from optimizer.highs_mirror import HighsMirror
from optimizer.layout import Layout, layout_of
from optimizer.lp_data import LpData, infeasible_steps, lp_data_of
from optimizer.model import build_model
from optimizer.parameters import parameters_of, row_matrix
from optimizer.persistent import PersistentModel
from optimizer.problem import Horizon, Problem, SiteLimits
from tests.optimizer.test_properties import problems

VECTORS = ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_")


@st.composite
def feasible_problems(draw: st.DrawFn) -> Problem:
    """Random problems whose base load fits, so that every constraint family is built."""
    problem = draw(problems(max_steps=4))
    site = SiteLimits(
        100.0,
        power_limit_w=draw(st.none() | st.floats(3 * 230.0 * 40.0, 3 * 230.0 * 100.0)),
    )
    horizon = problem.horizon
    if horizon is not None:
        horizon = replace(
            horizon,
            phase_limit_a=tuple(draw(st.floats(40.0, 100.0)) for _ in range(horizon.steps)),
            peak_price_per_kw=draw(st.none() | st.floats(0.1, 10.0)),
        )
    return replace(problem, site=site, horizon=horizon)


def _maybe(draw: st.DrawFn, value: float | None, new: st.SearchStrategy[float]) -> float | None:
    """A new number where there was one; None stays None (it is part of the shape)."""
    return None if value is None else draw(new)


@st.composite
def next_steps(draw: st.DrawFn, problem: Problem) -> Problem:
    """The same site a step later: new numbers everywhere, the same shape."""
    connectors = []
    for c in problem.connectors:
        present = draw(st.booleans())
        ev_phases = None
        if present and len(c.phases) == 3 and draw(st.booleans()):
            ev_phases = tuple(draw(st.sets(st.sampled_from(c.phases), min_size=1)))
        max_a = draw(st.floats(0.0, 40.0))
        fields: dict[str, Any] = {
            "max_current_a": max_a,
            "min_current_a": draw(st.floats(0.0, max_a)),
            "ev_present": present,
            "ev_phases": ev_phases,
            "ev_max_current_a": draw(st.none() | st.floats(0.0, 40.0)),
            "priority": draw(st.floats(0.5, 3.0)),
            "previous_current_a": _maybe(draw, c.previous_current_a, st.floats(0.0, 40.0)),
            "energy_need_wh": draw(st.none() | st.floats(0.0, 40_000.0))
            if problem.horizon is not None
            else None,
        }
        connectors.append(replace(c, **fields))
    circuits = tuple(replace(k, limit_a=draw(st.floats(0.0, 64.0))) for k in problem.circuits)
    base = st.floats(0.0, 40.0)
    site = replace(
        problem.site,
        power_limit_w=_maybe(
            draw, problem.site.power_limit_w, st.floats(3 * 230.0 * 40.0, 3 * 230.0 * 100.0)
        ),
    )
    horizon = problem.horizon
    if horizon is not None:
        steps = range(horizon.steps)
        horizon = Horizon(
            start=horizon.start,
            step_s=horizon.step_s,
            steps=horizon.steps,
            base_load_a=tuple(draw(st.tuples(base, base, base)) for _ in steps),
            price_per_kwh=tuple(draw(st.floats(0.0, 0.5)) for _ in steps),
            phase_limit_a=tuple(draw(st.floats(40.0, 100.0)) for _ in steps),
            peak_price_per_kw=_maybe(draw, horizon.peak_price_per_kw, st.floats(0.1, 10.0)),
        )
    return replace(
        problem,
        site=site,
        base_load_a=draw(st.tuples(base, base, base)),
        connectors=tuple(connectors),
        circuits=circuits,
        horizon=horizon,
    )


def lp_data(problem: Problem) -> tuple[Layout, LpData]:
    columns = columns_of(problem.connectors)
    layout = layout_of(problem, columns)
    params = parameters_of(problem, layout, columns)
    assume(not infeasible_steps(params))
    rows = row_matrix(layout, params, layout.member())
    admission = admit(params, layout.connector_ids, rows, params.row_rhs[0])
    return layout, lp_data_of(layout, params, rows, admission)


def arrays(lp: Any) -> dict[str, Any]:
    """Bounds, costs and the dense constraint matrix of a HighsLp (any matrix format)."""
    result = {name: np.asarray(getattr(lp, name)) for name in VECTORS}
    matrix = lp.a_matrix_
    starts, index, value = (np.asarray(a) for a in (matrix.start_, matrix.index_, matrix.value_))
    dense = np.zeros((lp.num_row_, lp.num_col_))
    rowwise = matrix.format_ == highspy.MatrixFormat.kRowwise
    for major in range(len(starts) - 1):
        for k in range(starts[major], starts[major + 1]):
            at = (major, index[k]) if rowwise else (index[k], major)
            dense[at] = value[k]
    result["matrix"] = dense
    return result


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_updated_model_equals_a_fresh_build(data: st.DataObject) -> None:
    first = data.draw(feasible_problems())
    layout, numbers = lp_data(first)
    model = PersistentModel(layout, numbers)
    problem = first
    for _ in range(2):
        problem = data.draw(next_steps(problem))
        new_layout, numbers = lp_data(problem)
        assume(new_layout == layout)
        model.update(numbers)
        expected = arrays(HighsMirror(build_model(layout, numbers)).lp)
        actual = arrays(model.highs.getLp())
        for name, values in expected.items():
            np.testing.assert_array_equal(actual[name], values, err_msg=name)
