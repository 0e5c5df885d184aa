"""One built model for one problem shape, updated in place between control steps.

The Pyomo recipe (`model.build_model`) is built once per shape and mirrored into HiGHS
(`HighsMirror`). Each step then only diffs the new `LpData` against what HiGHS holds and
pushes the changed column bounds, row bounds, costs and coefficients by index, runs the
dual simplex from the previous basis and reads back the current columns.
"""

from __future__ import annotations

import math
from typing import Any

import highspy
import numpy as np

from optimizer.highs_mirror import HighsMirror, IntArray, changed
from optimizer.layout import PHASE_COUNT, Layout
from optimizer.lp_data import LpData
from optimizer.model import build_model
from optimizer.parameters import FloatArray


class SolverFailure(RuntimeError):
    """HiGHS did not return an optimal solution."""


def _flat(values: Any) -> FloatArray:
    return np.asarray(values, dtype=np.float64).ravel()


class PersistentModel:
    """The LP of one shape: `update` with new numbers, then `solve`."""

    def __init__(self, layout: Layout, data: LpData) -> None:
        self.layout = layout
        self.model = build_model(layout, data)
        self.mirror = HighsMirror(self.model)
        self._index(layout)
        self._data = data
        self._row_lower, self._row_upper = self.row_bounds(data)
        self._cost = self.costs(data)

    def _index(self, layout: Layout) -> None:
        m, mirror = self.model, self.mirror
        n, steps, n_circuits = layout.n_connectors, layout.steps, len(layout.circuit_ids)
        cs, ts = range(n), range(steps)
        self.current_cols = mirror.cols(m.i, [(c, t) for t in ts for c in cs]).reshape(steps, n)
        self.site_rows = mirror.rows(
            m.site_phase, [(p, t) for t in ts for p in range(PHASE_COUNT)]
        ).reshape(steps, PHASE_COUNT)
        self.circuit_rows = mirror.rows(
            m.circuit_phase,
            [(k, p, t) for t in ts for k in range(n_circuits) for p in range(PHASE_COUNT)],
        ).reshape(steps, n_circuits * PHASE_COUNT)
        self.power_rows = mirror.rows(m.site_power, list(ts)) if layout.has_power_cap else None
        self.peak_rows = mirror.rows(m.site_peak, list(ts)) if layout.has_peak else None
        self.peak_col = mirror.col(m.peak) if layout.has_peak else -1
        self.energy_rows = mirror.rows(m.energy, list(cs)) if layout.has_horizon else None
        if layout.has_previous:
            self.change_rows: IntArray | None = mirror.rows(m.change, list(cs))
            self.up_cols = mirror.cols(m.up, list(cs))
            self.down_cols = mirror.cols(m.down, list(cs))
        else:
            self.change_rows = None
        self._draw_entries = self._phase_entries(layout)
        self._count_entries = self._phase_count_entries()

    def _phase_entries(self, layout: Layout) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """(row, col, connector, phase) of every d[c,p] coefficient in the matrix."""
        rows, cols, conns, phases = [], [], [], []
        wired, member = layout.wired(), layout.member()
        circuits = self.circuit_rows.reshape(layout.steps, -1, PHASE_COUNT)
        for t in range(layout.steps):
            for p in range(PHASE_COUNT):
                groups = [(self.site_rows[t, p], wired[:, p])]
                groups += [(circuits[t, k, p], member[k] & wired[:, p]) for k in range(len(member))]
                for row, mask in groups:
                    if row < 0:
                        continue
                    members = np.flatnonzero(mask)
                    rows.append(np.full(len(members), row))
                    cols.append(self.current_cols[t, members])
                    conns.append(members)
                    phases.append(np.full(len(members), p))
        return tuple(  # type: ignore[return-value]
            np.concatenate(a).astype(np.int32) if a else np.zeros(0, np.int32)
            for a in (rows, cols, conns, phases)
        )

    def _phase_count_entries(self) -> tuple[IntArray, IntArray, IntArray]:
        """(row, col, connector) of every n[c] coefficient (power, peak, energy rows)."""
        steps, n = self.current_cols.shape
        rows, cols, conns = [], [], []
        for per_step in (self.power_rows, self.peak_rows):
            if per_step is not None:
                rows.append(np.repeat(per_step, n))
                cols.append(self.current_cols.ravel())
                conns.append(np.tile(np.arange(n), steps))
        if self.energy_rows is not None:
            rows.append(np.tile(self.energy_rows, steps))
            cols.append(self.current_cols.ravel())
            conns.append(np.tile(np.arange(n), steps))
        return tuple(  # type: ignore[return-value]
            np.concatenate(a).astype(np.int32) if a else np.zeros(0, np.int32)
            for a in (rows, cols, conns)
        )

    def row_bounds(self, data: LpData) -> tuple[FloatArray, FloatArray]:
        """Lower and upper bound of every HiGHS row for `data`."""
        lower = np.full(self.mirror.n_rows, -math.inf)
        upper = np.full(self.mirror.n_rows, math.inf)
        n_circuit_rows = self.circuit_rows.shape[1]
        for rows, rhs in (
            (self.site_rows, data.row_rhs[:, :PHASE_COUNT]),
            (self.circuit_rows, data.row_rhs[:, PHASE_COUNT : PHASE_COUNT + n_circuit_rows]),
        ):
            valid = rows >= 0
            upper[rows[valid]] = rhs[valid]
        if self.power_rows is not None:
            upper[self.power_rows] = data.row_rhs[:, -1]
        if self.peak_rows is not None:
            upper[self.peak_rows] = data.peak_rhs
        if self.energy_rows is not None:
            lower[self.energy_rows] = data.energy_lo
            upper[self.energy_rows] = data.energy_hi
        if self.change_rows is not None:
            lower[self.change_rows] = data.previous_a
            upper[self.change_rows] = data.previous_a
        return lower, upper

    def costs(self, data: LpData) -> FloatArray:
        """Objective coefficient of every HiGHS column for `data`."""
        cost = np.zeros(self.mirror.n_cols)
        cost[self.current_cols] = data.current_cost
        if self.peak_col >= 0:
            cost[self.peak_col] = data.peak_cost
        if self.change_rows is not None:
            cost[self.up_cols] = data.change_cost
            cost[self.down_cols] = data.change_cost
        return cost

    def update(self, data: LpData) -> None:
        """Push what differs from the numbers HiGHS holds."""
        highs, old = self.mirror.highs, self._data
        cols = self.current_cols.ravel()
        lb, ub = _flat(data.current_lb), _flat(data.current_ub)
        moved = np.union1d(changed(lb, _flat(old.current_lb)), changed(ub, _flat(old.current_ub)))
        if moved.size:
            highs.changeColsBounds(moved.size, cols[moved], lb[moved], ub[moved])

        lower, upper = self.row_bounds(data)
        moved = np.union1d(changed(lower, self._row_lower), changed(upper, self._row_upper))
        if moved.size:
            highs.changeRowsBounds(moved.size, moved.astype(np.int32), lower[moved], upper[moved])
        self._row_lower, self._row_upper = lower, upper

        cost = self.costs(data)
        moved = changed(cost, self._cost)
        if moved.size:
            highs.changeColsCost(moved.size, moved.astype(np.int32), cost[moved])
        self._cost = cost

        self._update_coefficients(data, old)
        self._data = data

    def _update_coefficients(self, data: LpData, old: LpData) -> None:
        highs = self.mirror.highs
        redrawn = np.any(data.draws != old.draws, axis=1)
        if redrawn.any():
            rows, cols, conns, phases = self._draw_entries
            for k in np.flatnonzero(redrawn[conns]):
                highs.changeCoeff(
                    int(rows[k]), int(cols[k]), float(data.draws[conns[k], phases[k]])
                )
        recounted = data.phase_count != old.phase_count
        if recounted.any():
            rows, cols, conns = self._count_entries
            for k in np.flatnonzero(recounted[conns]):
                highs.changeCoeff(int(rows[k]), int(cols[k]), float(data.phase_count[conns[k]]))

    def solve(self) -> FloatArray:
        """Per-phase currents (T, N); raises SolverFailure unless HiGHS finds the optimum."""
        highs = self.mirror.highs
        highs.run()
        status = highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolverFailure(highs.modelStatusToString(status))
        values = np.asarray(highs.getSolution().col_value)
        return np.asarray(values[self.current_cols], dtype=np.float64)
