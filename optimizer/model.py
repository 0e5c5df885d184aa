"""The allocation LP as a flat Pyomo recipe, one function per constraint family.

Notation: connectors c, steps t, site phases p, circuits k; i[c,t] is the per-phase
current of connector c at step t (A) on every phase it draws on; d[c,p] is 1 if c draws
on site phase p, else 0; n[c] = sum_p d[c,p]. Power and energy rows are in phase-amps
(A summed over phases) so the voltage stays out of the matrix.

The structure depends only on the `Layout`; the numbers come from an `LpData`. Every
number inside a row (coefficients and right-hand sides) is a mutable Param, so a row
keeps its entries and its place when a number is 0. The per-(connector, step) current
bounds and costs are plain numbers: they never change the structure, and as Params (3 T N
of them) they would cost about a quarter of the build. Row names (for `binding`) are
given by `assemble.row_names`.

This recipe is the model's only definition. `persistent` builds it once per shape and
reads it into HiGHS; the parameters then hold the numbers of that first step only, as
later steps push their numbers straight into the HiGHS model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from optimizer.layout import PHASE_COUNT, Layout
from optimizer.lp_data import LpData
from optimizer.parameters import FloatArray

Model = Any
"""A pyomo ConcreteModel (Pyomo ships no type information)."""


def _indexed(array: FloatArray) -> Any:
    """Pyomo `initialize` rule reading an array: [i] for 1-D, [i, j] for 2-D.

    A rule is several times faster to construct from than a dict: Pyomo then walks its
    own index set instead of validating every key of the dict against it.
    """
    values = array.tolist()
    if array.ndim == 1:
        return lambda _m, i: values[i]
    return lambda _m, i, j: values[i][j]


def define_sets(m: Model, layout: Layout) -> None:
    m.C = pyo.RangeSet(0, layout.n_connectors - 1)
    m.T = pyo.RangeSet(0, layout.steps - 1)
    m.P = pyo.RangeSet(0, PHASE_COUNT - 1)
    m.K = pyo.RangeSet(0, len(layout.circuit_ids) - 1)


def define_parameters(m: Model, layout: Layout, data: LpData) -> None:
    """Mutable parameters of the rows; arrays are stored (t, c) in LpData, [c, t] here."""
    mutable = {"mutable": True, "within": pyo.Reals}
    m.d = pyo.Param(m.C, m.P, initialize=_indexed(data.draws), **mutable)
    m.n = pyo.Param(m.C, initialize=_indexed(data.phase_count), **mutable)
    m.site_rhs = pyo.Param(
        m.P, m.T, initialize=_indexed(data.row_rhs[:, :PHASE_COUNT].T), **mutable
    )
    circuit_rhs = data.row_rhs[0, PHASE_COUNT : PHASE_COUNT * (1 + len(layout.circuit_ids))]
    m.circuit_limit = pyo.Param(m.K, initialize=_indexed(circuit_rhs[::PHASE_COUNT]), **mutable)
    power_rhs = data.row_rhs[:, -1] if layout.has_power_cap else np.zeros(layout.steps)
    m.power_rhs = pyo.Param(m.T, initialize=_indexed(power_rhs), **mutable)
    m.peak_rhs = pyo.Param(m.T, initialize=_indexed(data.peak_rhs), **mutable)
    m.energy_lo = pyo.Param(m.C, initialize=_indexed(data.energy_lo), **mutable)
    m.energy_hi = pyo.Param(m.C, initialize=_indexed(data.energy_hi), **mutable)
    m.previous = pyo.Param(m.C, initialize=_indexed(data.previous_a), **mutable)
    m.peak_cost = pyo.Param(initialize=data.peak_cost, **mutable)
    m.change_cost = pyo.Param(m.C, initialize=_indexed(data.change_cost), **mutable)


def define_current_variables(m: Model, data: LpData) -> None:
    """lb[t,c] <= i[c,t] <= ub[t,c]   (connector-{id}-max when ub is the connector/EV max)."""
    lb, ub = data.current_lb.T.tolist(), data.current_ub.T.tolist()
    m.i = pyo.Var(m.C, m.T, bounds=lambda m, c, t: (lb[c][t], ub[c][t]))


def define_site_phase_constraints(m: Model, layout: Layout) -> None:
    """site-L{p}:  sum_c d[c,p] i[c,t] <= limit[t] - base[t,p]."""
    wired = layout.wired()
    on_phase = [np.flatnonzero(wired[:, p]).tolist() for p in range(PHASE_COUNT)]

    def rule(m: Model, p: int, t: int) -> Any:
        members = on_phase[p]
        if not members:
            return pyo.Constraint.Skip
        return sum(m.d[c, p] * m.i[c, t] for c in members) <= m.site_rhs[p, t]

    m.site_phase = pyo.Constraint(m.P, m.T, rule=rule)


def define_circuit_phase_constraints(m: Model, layout: Layout) -> None:
    """circuit-{id}-L{p}:  sum_{c below k} d[c,p] i[c,t] <= limit[k]."""
    wired = layout.wired()
    member = layout.member()
    below = [
        [np.flatnonzero(member[k] & wired[:, p]).tolist() for p in range(PHASE_COUNT)]
        for k in range(len(layout.circuit_ids))
    ]

    def rule(m: Model, k: int, p: int, t: int) -> Any:
        members = below[k][p]
        if not members:
            return pyo.Constraint.Skip
        return sum(m.d[c, p] * m.i[c, t] for c in members) <= m.circuit_limit[k]

    m.circuit_phase = pyo.Constraint(m.K, m.P, m.T, rule=rule)


def define_site_power_constraints(m: Model) -> None:
    """site-power:  sum_c n[c] i[c,t] <= power_limit / voltage - sum_p base[t,p]."""
    m.site_power = pyo.Constraint(
        m.T, rule=lambda m, t: sum(m.n[c] * m.i[c, t] for c in m.C) <= m.power_rhs[t]
    )


def define_peak_constraints(m: Model) -> None:
    """site-peak:  sum_c n[c] i[c,t] - peak <= -sum_p base[t,p]  (peak >= site phase-amps)."""
    m.peak = pyo.Var(within=pyo.NonNegativeReals)
    m.site_peak = pyo.Constraint(
        m.T, rule=lambda m, t: sum(m.n[c] * m.i[c, t] for c in m.C) - m.peak <= m.peak_rhs[t]
    )


def define_energy_constraints(m: Model) -> None:
    """connector-{id}-energy:  energy_lo[c] <= sum_t n[c] i[c,t] <= energy_hi[c]."""
    m.energy = pyo.Constraint(
        m.C,
        rule=lambda m, c: pyo.inequality(
            m.energy_lo[c], sum(m.n[c] * m.i[c, t] for t in m.T), m.energy_hi[c]
        ),
    )


def define_change_constraints(m: Model) -> None:
    """connector-{id}-change:  i[c,0] - up[c] + down[c] = previous[c],  up, down >= 0."""
    m.up = pyo.Var(m.C, within=pyo.NonNegativeReals)
    m.down = pyo.Var(m.C, within=pyo.NonNegativeReals)
    m.change = pyo.Constraint(
        m.C, rule=lambda m, c: m.i[c, 0] - m.up[c] + m.down[c] == m.previous[c]
    )


def define_objective(m: Model, layout: Layout, data: LpData) -> None:
    """min sum_{c,t} cost[t,c] i[c,t] + peak_cost peak + sum_c change_cost[c] (up + down).

    The ranking of the terms lives in the cost numbers (see `lp_data`).
    """
    cost = data.current_cost.T.tolist()
    expr = sum(cost[c][t] * m.i[c, t] for c in m.C for t in m.T)
    if layout.has_peak:
        expr += m.peak_cost * m.peak
    if layout.has_previous:
        expr += sum(m.change_cost[c] * (m.up[c] + m.down[c]) for c in m.C)
    m.objective = pyo.Objective(expr=expr, sense=pyo.minimize)


def build_model(layout: Layout, data: LpData) -> Model:
    """The whole recipe for one shape, its parameters set from `data`."""
    m = pyo.ConcreteModel(name="allocation")
    define_sets(m, layout)
    define_parameters(m, layout, data)
    define_current_variables(m, data)
    define_site_phase_constraints(m, layout)
    define_circuit_phase_constraints(m, layout)
    if layout.has_power_cap:
        define_site_power_constraints(m)
    if layout.has_peak:
        define_peak_constraints(m)
    if layout.has_horizon:
        define_energy_constraints(m)
    if layout.has_previous:
        define_change_constraints(m)
    define_objective(m, layout, data)
    return m
