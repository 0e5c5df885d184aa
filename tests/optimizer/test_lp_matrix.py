"""The LP the solver lays out from numpy is the Pyomo recipe's LP, array for array."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.admission import admit
from optimizer.columns import columns_of
from optimizer.layout import layout_of
from optimizer.lp_data import infeasible_steps, lp_data_of
from optimizer.lp_matrix import build_lp
from optimizer.model import build_model
from optimizer.parameters import parameters_of, row_matrix
from optimizer.problem import Horizon, Problem, SiteLimits
from tests.optimizer.pyomo_mirror import HighsMirror
from tests.optimizer.test_properties import problems

LP_FIELDS = ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_")
MATRIX_FIELDS = ("start_", "index_", "value_")


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
        horizon = Horizon(
            start=horizon.start,
            step_s=horizon.step_s,
            steps=horizon.steps,
            base_load_a=horizon.base_load_a,
            price_per_kwh=horizon.price_per_kwh,
            phase_limit_a=tuple(draw(st.floats(40.0, 100.0)) for _ in range(horizon.steps)),
            peak_price_per_kw=draw(st.none() | st.floats(0.1, 10.0)),
        )
    return replace(problem, site=site, horizon=horizon)


def _arrays(lp: Any) -> dict[str, Any]:
    arrays = {name: np.asarray(getattr(lp, name)) for name in LP_FIELDS}
    arrays |= {name: np.asarray(getattr(lp.a_matrix_, name)) for name in MATRIX_FIELDS}
    arrays["shape"] = np.array([lp.num_col_, lp.num_row_])
    return arrays


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feasible_problems())
def test_numpy_layout_equals_the_pyomo_recipe(problem: Problem) -> None:
    columns = columns_of(problem.connectors)
    layout = layout_of(problem, columns)
    params = parameters_of(problem, layout, columns)
    assert not infeasible_steps(params)
    rows = row_matrix(layout, params, layout.member())
    admission = admit(params, layout.connector_ids, rows, params.row_rhs[0])
    data = lp_data_of(layout, params, rows, admission)
    model = build_model(layout, data)
    reference = HighsMirror(model)
    lp, index = build_lp(layout, data)

    expected, actual = _arrays(reference.lp), _arrays(lp)
    for name, values in expected.items():
        np.testing.assert_array_equal(actual[name], values, err_msg=name)
    steps, cs, phases = range(layout.steps), range(layout.n_connectors), range(3)
    circuit_keys = [
        (k, p, t) for t in steps for k in range(len(layout.circuit_ids)) for p in phases
    ]
    expected_index: dict[str, Any] = {
        "current_cols": reference.cols(model.i, [(c, t) for t in steps for c in cs]),
        "site_rows": reference.rows(model.site_phase, [(p, t) for t in steps for p in phases]),
        "circuit_rows": reference.rows(model.circuit_phase, circuit_keys),
    }
    if layout.has_power_cap:
        expected_index["power_rows"] = reference.rows(model.site_power, list(steps))
    if layout.has_peak:
        expected_index["peak_rows"] = reference.rows(model.site_peak, list(steps))
        expected_index["peak_col"] = reference.col(model.peak)
    if layout.has_horizon:
        expected_index["energy_rows"] = reference.rows(model.energy, list(cs))
    if layout.has_previous:
        expected_index["change_rows"] = reference.rows(model.change, list(cs))
        expected_index["up_cols"] = reference.cols(model.up, list(cs))
        expected_index["down_cols"] = reference.cols(model.down, list(cs))
    for name, where in expected_index.items():
        np.testing.assert_array_equal(np.ravel(getattr(index, name)), where, err_msg=name)
