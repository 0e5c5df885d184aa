"""The allocation LP as HiGHS arrays, built straight from numpy.

`model` writes the LP as a Pyomo recipe; that is its documentation and its reference.
Walking a built Pyomo model constraint by constraint costs seconds for a day-ahead
horizon of a few hundred connectors, so the solver lays out the same LP directly: the
same columns and rows in the order Pyomo lists them (variables and constraints in
declaration order, index sets in order, empty rows skipped), the same coefficients in
the order of each row's sum, the same bounds and costs. `tests/optimizer` proves the two
identical, array for array.

Columns: i[c, t] at c·T + t, then peak (with a demand charge), then up[c] and down[c]
(with a previous allocation). Rows: site-L{p} per (p, t), circuit-{k}-L{p} per
(k, p, t), site-power per t, site-peak per t, energy per c, change per c.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from optimizer.layout import PHASE_COUNT, Layout
from optimizer.lp_data import LpData
from optimizer.parameters import FloatArray

IntArray = np.ndarray[Any, np.dtype[np.int32]]


@dataclass(frozen=True)
class LpIndex:
    """Where each family of the recipe sits in the HiGHS model; -1 for a skipped row."""

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


class _Rows:
    """Rows appended in order, each as (columns, coefficients, lower, upper)."""

    def __init__(self) -> None:
        self.count = 0
        self.lengths: list[IntArray] = []
        self.cols: list[IntArray] = []
        self.values: list[FloatArray] = []
        self.lower: list[FloatArray] = []
        self.upper: list[FloatArray] = []

    def add(self, cols: Any, values: Any, lower: Any, upper: Any) -> IntArray:
        """Append rows; `cols` and `values` are (rows, entries). Returns the row indices."""
        cols = np.asarray(cols, dtype=np.int32)
        rows = cols.shape[0]
        self.lengths.append(np.full(rows, cols.shape[1], dtype=np.int32))
        self.cols.append(cols.ravel())
        self.values.append(
            np.broadcast_to(np.asarray(values, dtype=np.float64), cols.shape).ravel()
        )
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=np.float64), (rows,)))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), (rows,)))
        indices = np.arange(self.count, self.count + rows, dtype=np.int32)
        self.count += rows
        return indices


def _joined(parts: list[Any], dtype: Any) -> Any:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def _phase_rows(
    rows: _Rows, groups: list[Any], phases: list[int], rhs: FloatArray, data: LpData
) -> IntArray:
    """One row per step for each group of connectors on a phase; (T, groups) indices."""
    steps = rhs.shape[0]
    result = np.full((steps, len(groups)), -1, dtype=np.int32)
    t = np.arange(steps)
    for g, (members, p) in enumerate(zip(groups, phases, strict=True)):
        if len(members):
            cols = members[None, :] * steps + t[:, None]
            result[:, g] = rows.add(cols, data.draws[members, p][None, :], -math.inf, rhs[:, g])
    return result


def build_lp(layout: Layout, data: LpData) -> tuple[Any, LpIndex]:
    """The HiGHS LP of the recipe in `model` for one shape, numbers from `data`."""
    n, steps, n_circuits = layout.n_connectors, layout.steps, len(layout.circuit_ids)
    wired, member = layout.wired(), layout.member()
    t = np.arange(steps)
    current_cols = (np.arange(n)[None, :] * steps + t[:, None]).astype(np.int32)
    n_cols = n * steps
    peak_col = -1
    if layout.has_peak:
        peak_col, n_cols = n_cols, n_cols + 1
    up_cols = down_cols = None
    if layout.has_previous:
        up_cols = np.arange(n_cols, n_cols + n, dtype=np.int32)
        down_cols = up_cols + n
        n_cols += 2 * n

    rows = _Rows()
    site_groups = [np.flatnonzero(wired[:, p]) for p in range(PHASE_COUNT)]
    site_rows = _phase_rows(
        rows, site_groups, list(range(PHASE_COUNT)), data.row_rhs[:, :PHASE_COUNT], data
    )
    circuit_groups = [
        np.flatnonzero(member[k] & wired[:, p]) for k in range(n_circuits) for p in range(3)
    ]
    circuit_rhs = data.row_rhs[:, PHASE_COUNT : PHASE_COUNT * (1 + n_circuits)]
    circuit_rows = _phase_rows(
        rows, circuit_groups, list(range(PHASE_COUNT)) * n_circuits, circuit_rhs, data
    )
    power_rows = peak_rows = energy_rows = change_rows = None
    by_step = current_cols
    if layout.has_power_cap:
        power_rows = rows.add(by_step, data.phase_count[None, :], -math.inf, data.row_rhs[:, -1])
    if layout.has_peak:
        cols = np.concatenate([by_step, np.full((steps, 1), peak_col)], axis=1)
        values = np.append(data.phase_count, -1.0)[None, :]
        peak_rows = rows.add(cols, values, -math.inf, data.peak_rhs)
    if layout.has_horizon:
        energy_rows = rows.add(
            current_cols.T, data.phase_count[:, None], data.energy_lo, data.energy_hi
        )
    if up_cols is not None and down_cols is not None:
        cols = np.stack([current_cols[0], up_cols, down_cols], axis=1)
        change_rows = rows.add(cols, [[1.0, -1.0, 1.0]], data.previous_a, data.previous_a)

    index = LpIndex(
        current_cols=current_cols,
        site_rows=site_rows,
        circuit_rows=circuit_rows,
        power_rows=power_rows,
        peak_rows=peak_rows,
        peak_col=peak_col,
        energy_rows=energy_rows,
        change_rows=change_rows,
        up_cols=up_cols,
        down_cols=down_cols,
        n_rows=rows.count,
        n_cols=n_cols,
    )
    col_lower = np.zeros(n_cols)
    col_upper = np.full(n_cols, math.inf)
    col_lower[current_cols] = data.current_lb
    col_upper[current_cols] = data.current_ub
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = rows.count
    lp.col_cost_ = costs(index, data)
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = _joined(rows.lower, np.float64)
    lp.row_upper_ = _joined(rows.upper, np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = rows.count
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum(_joined(rows.lengths, np.int64))]).astype(
        np.int32
    )
    lp.a_matrix_.index_ = _joined(rows.cols, np.int32)
    lp.a_matrix_.value_ = _joined(rows.values, np.float64)
    return lp, index


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
