"""Where each family of the recipe in `model` sits in the HiGHS model, and its numbers.

`index_of` reads the positions from the `HighsMirror` of a built model once per shape;
`row_bounds` and `costs` then give every row's bounds and every column's cost for new
`LpData` without Pyomo, so that a control step only compares arrays and pushes what
changed into HiGHS by index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optimizer.highs_mirror import HighsMirror, IntArray
from optimizer.layout import PHASE_COUNT, Layout
from optimizer.lp_data import LpData
from optimizer.model import Model
from optimizer.parameters import FloatArray


@dataclass(frozen=True)
class LpIndex:
    """Position of each family of the recipe; -1 for a row the recipe skipped."""

    current_cols: IntArray
    """(T, N) column of i[c, t]."""
    site_rows: IntArray
    """(T, 3)"""
    circuit_rows: IntArray
    """(T, 3 K) circuit k phase p at 3 k + p."""
    power_rows: IntArray | None
    peak_rows: IntArray | None
    peak_col: int
    energy_rows: IntArray | None
    change_rows: IntArray | None
    up_cols: IntArray | None
    down_cols: IntArray | None
    n_rows: int
    n_cols: int


def index_of(layout: Layout, model: Model, mirror: HighsMirror) -> LpIndex:
    """The positions of the families of `model` (built for `layout`) in `mirror`."""
    steps, n = layout.steps, layout.n_connectors
    ts, cs, ps = range(steps), range(n), range(PHASE_COUNT)
    ks = range(len(layout.circuit_ids))
    current_cols = mirror.cols(model.i, [(c, t) for t in ts for c in cs]).reshape(steps, n)
    site_rows = mirror.rows(model.site_phase, [(p, t) for t in ts for p in ps])
    circuit_rows = mirror.rows(model.circuit_phase, [(k, p, t) for t in ts for k in ks for p in ps])
    power_rows = peak_rows = energy_rows = change_rows = up_cols = down_cols = None
    peak_col = -1
    if layout.has_power_cap:
        power_rows = mirror.rows(model.site_power, list(ts))
    if layout.has_peak:
        peak_rows = mirror.rows(model.site_peak, list(ts))
        peak_col = mirror.col(model.peak)
    if layout.has_horizon:
        energy_rows = mirror.rows(model.energy, list(cs))
    if layout.has_previous:
        change_rows = mirror.rows(model.change, list(cs))
        up_cols = mirror.cols(model.up, list(cs))
        down_cols = mirror.cols(model.down, list(cs))
    return LpIndex(
        current_cols=current_cols,
        site_rows=site_rows.reshape(steps, PHASE_COUNT),
        circuit_rows=circuit_rows.reshape(steps, PHASE_COUNT * len(ks)),
        power_rows=power_rows,
        peak_rows=peak_rows,
        peak_col=peak_col,
        energy_rows=energy_rows,
        change_rows=change_rows,
        up_cols=up_cols,
        down_cols=down_cols,
        n_rows=mirror.lp.num_row_,
        n_cols=mirror.lp.num_col_,
    )


def row_bounds(index: LpIndex, data: LpData) -> tuple[FloatArray, FloatArray]:
    """Lower and upper bound of every row for `data`."""
    lower = np.full(index.n_rows, -math.inf)
    upper = np.full(index.n_rows, math.inf)
    n_circuit_rows = index.circuit_rows.shape[1]
    for rows, rhs in (
        (index.site_rows, data.row_rhs[:, :PHASE_COUNT]),
        (index.circuit_rows, data.row_rhs[:, PHASE_COUNT : PHASE_COUNT + n_circuit_rows]),
    ):
        valid = rows >= 0
        upper[rows[valid]] = rhs[valid]
    if index.power_rows is not None:
        upper[index.power_rows] = data.row_rhs[:, -1]
    if index.peak_rows is not None:
        upper[index.peak_rows] = data.peak_rhs
    if index.energy_rows is not None:
        lower[index.energy_rows] = data.energy_lo
        upper[index.energy_rows] = data.energy_hi
    if index.change_rows is not None:
        lower[index.change_rows] = data.previous_a
        upper[index.change_rows] = data.previous_a
    return lower, upper


def costs(index: LpIndex, data: LpData) -> FloatArray:
    """Objective coefficient of every column for `data`."""
    cost = np.zeros(index.n_cols)
    cost[index.current_cols] = data.current_cost
    if index.peak_col >= 0:
        cost[index.peak_col] = data.peak_cost
    if index.up_cols is not None and index.down_cols is not None:
        cost[index.up_cols] = data.change_cost
        cost[index.down_cols] = data.change_cost
    return cost
