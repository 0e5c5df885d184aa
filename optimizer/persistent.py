"""One built model for one problem shape, updated in place between control steps.

Pyomo builds the model once per shape: `model.build_model` writes the recipe, and
`HighsMirror` reads it into a highspy model with maps from each Pyomo component to its
row or column (`lp_index`). The Pyomo model is then dropped. Each control step only
compares the new `LpData` with the numbers HiGHS holds and pushes the changed column
bounds, row bounds, costs and coefficients into the highspy model by index, runs the
dual simplex from the previous basis and reads back the current columns.

Why not update through Pyomo: setting its mutable parameters and letting a persistent
interface re-evaluate every expression that uses them makes a step several times slower
than the warm solve itself, and re-reading the model is slower still. A shape change
(startup, a connector added or removed) is the only time Pyomo runs; never on a tick.

The build runs with the cyclic garbage collector paused, as Pyomo's own writers do, and
ends with one collection of the dropped model (hundreds of thousands of objects in
reference cycles for a day-ahead horizon): otherwise the collector would walk them
repeatedly during the build, and free them in a pause of a later control step. It
collects the youngest generation only: with the collector paused, everything the build
made is still there, so that frees what a full collection frees (the same 2,000-2,500
objects per build on the workplace day) without walking the rest of the process's heap
(0.3 ms a build against 30 ms, 4 % of that replay's CPU).
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
from pyomo.common.gc_manager import PauseGC

from optimizer.highs_mirror import HighsMirror, IntArray
from optimizer.layout import PHASE_COUNT, Layout
from optimizer.lp_data import LpData
from optimizer.lp_index import LpIndex, costs, index_of, row_bounds
from optimizer.model import build_model
from optimizer.parameters import FloatArray

HIGHS: Any = highspy.Highs
"""highspy's bundled type hints miss part of the API used here (e.g. changeRowsBounds)."""

HIGHS_THREADS = 1
"""Every HiGHS instance in the process must ask for this many threads: HiGHS keeps one
thread scheduler per process, set by the first solve, and a later instance asking for a
different count fails every solve ("Not Set"), which the solver would answer with its
equal-share fallback at every step. One thread also keeps a control step from waiting on
threads a busy host has put to sleep."""

RUN_TIME_LIMIT_S = 10.0
"""The most one solve may take. HiGHS counts its `time_limit` against the run time an
instance has summed over every run, so a model kept from step to step (`PersistentModel`)
moves its limit on before each run: held at 10 s, a site's solver whose runs had added up
to 10 s (about a day of steps) failed every step after, and the controller fell back to
its equal shares until the layout changed."""
SOLVER_OPTIONS: dict[str, Any] = {
    "output_flag": False,
    "time_limit": RUN_TIME_LIMIT_S,
    "threads": HIGHS_THREADS,
}


class SolverFailure(RuntimeError):
    """HiGHS did not return an optimal solution."""


def _flat(values: Any) -> FloatArray:
    return np.asarray(values, dtype=np.float64).ravel()


def changed(new: FloatArray, old: FloatArray) -> Any:
    """Indices (flat) where two arrays differ; inf == inf counts as equal."""
    return (new.ravel() != old.ravel()).nonzero()[0]


def changed_either(
    lower: FloatArray, old_lower: FloatArray, upper: FloatArray, old_upper: FloatArray
) -> Any:
    """Indices (flat, ascending) where either pair of bounds differs (as `np.union1d` of
    the two `changed`, without its sorting)."""
    moved = lower.ravel() != old_lower.ravel()
    moved |= upper.ravel() != old_upper.ravel()
    return moved.nonzero()[0]


def _highs_lp(layout: Layout, data: LpData) -> tuple[Any, LpIndex]:
    """The HiGHS LP of the Pyomo recipe for `data` and its index; the Pyomo model dies here."""
    model = build_model(layout, data)
    mirror = HighsMirror(model)
    return mirror.lp, index_of(layout, model, mirror)


@dataclass(frozen=True)
class BuiltLp:
    """The HiGHS LP Pyomo built for one shape, its index and the numbers it was built
    with: a model of that shape can start again from it without Pyomo (`PersistentModel`
    with `built`)."""

    lp: Any
    index: LpIndex
    data: LpData


def build_lp(layout: Layout, data: LpData) -> BuiltLp:
    """Run the Pyomo recipe for `layout` with `data` (the only place Pyomo runs)."""
    with PauseGC():
        lp, index = _highs_lp(layout, data)
        gc.collect(0)
    return BuiltLp(lp, index, data)


class PersistentModel:
    """The LP of one shape: `update` with new numbers, then `solve`.

    Given `built` (an LP of the same shape built before), the model starts from that LP
    and is brought to `data` by `update`: the very numbers a new build would hold, solved
    from no basis as a new build would be, without running Pyomo again."""

    def __init__(self, layout: Layout, data: LpData, built: BuiltLp | None = None) -> None:
        self.layout = layout
        if built is None:
            built = build_lp(layout, data)
        self.built = built
        lp, self.index = built.lp, built.index
        self.highs: Any = HIGHS()
        for name, option in SOLVER_OPTIONS.items():
            self.highs.setOptionValue(name, option)
        self.highs.passModel(lp)
        self.current_cols = self.index.current_cols
        self._draw_entries = self._phase_entries(layout)
        self._count_entries = self._phase_count_entries()
        self._data = built.data
        self._row_lower, self._row_upper = row_bounds(self.index, built.data)
        self._cost = costs(self.index, built.data)
        if built.data is not data:
            self.update(data)

    def _phase_entries(self, layout: Layout) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """(row, col, connector, phase) of every d[c,p] coefficient in the matrix."""
        rows, cols, conns, phases = [], [], [], []
        wired, member = layout.wired(), layout.member()
        circuits = self.index.circuit_rows.reshape(layout.steps, -1, PHASE_COUNT)
        for t in range(layout.steps):
            for p in range(PHASE_COUNT):
                groups = [(self.index.site_rows[t, p], wired[:, p])]
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
        for per_step in (self.index.power_rows, self.index.peak_rows):
            if per_step is not None:
                rows.append(np.repeat(per_step, n))
                cols.append(self.current_cols.ravel())
                conns.append(np.tile(np.arange(n), steps))
        if self.index.energy_rows is not None:
            rows.append(np.tile(self.index.energy_rows, steps))
            cols.append(self.current_cols.ravel())
            conns.append(np.tile(np.arange(n), steps))
        return tuple(  # type: ignore[return-value]
            np.concatenate(a).astype(np.int32) if a else np.zeros(0, np.int32)
            for a in (rows, cols, conns)
        )

    def update(self, data: LpData) -> None:
        """Push what differs from the numbers HiGHS holds."""
        highs, old = self.highs, self._data
        cols = self.current_cols.ravel()
        lb, ub = _flat(data.current_lb), _flat(data.current_ub)
        moved = changed_either(lb, _flat(old.current_lb), ub, _flat(old.current_ub))
        if moved.size:
            highs.changeColsBounds(moved.size, cols[moved], lb[moved], ub[moved])

        lower, upper = row_bounds(self.index, data)
        moved = changed_either(lower, self._row_lower, upper, self._row_upper)
        if moved.size:
            highs.changeRowsBounds(moved.size, moved.astype(np.int32), lower[moved], upper[moved])
        self._row_lower, self._row_upper = lower, upper

        cost = costs(self.index, data)
        moved = changed(cost, self._cost)
        if moved.size:
            highs.changeColsCost(moved.size, moved.astype(np.int32), cost[moved])
        self._cost = cost

        self._update_coefficients(data, old)
        self._data = data

    def _update_coefficients(self, data: LpData, old: LpData) -> None:
        if data.draws is not old.draws:  # `parameters_of` keeps the array of unchanged draws
            self._redraw(data, old)
        recounted = data.phase_count != old.phase_count
        if recounted.any():
            rows, cols, conns = self._count_entries
            for k in np.flatnonzero(recounted[conns]):
                self.highs.changeCoeff(
                    int(rows[k]), int(cols[k]), float(data.phase_count[conns[k]])
                )

    def _redraw(self, data: LpData, old: LpData) -> None:
        redrawn = (data.draws != old.draws).any(axis=1)
        if redrawn.any():
            rows, cols, conns, phases = self._draw_entries
            for k in np.flatnonzero(redrawn[conns]):
                self.highs.changeCoeff(
                    int(rows[k]), int(cols[k]), float(data.draws[conns[k], phases[k]])
                )

    def solve(self) -> FloatArray:
        """Per-phase currents (T, N); raises SolverFailure unless HiGHS finds the optimum."""
        highs = self.highs
        highs.setOptionValue("time_limit", highs.getRunTime() + RUN_TIME_LIMIT_S)
        highs.run()
        status = highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise SolverFailure(highs.modelStatusToString(status))
        values = np.asarray(highs.getSolution().col_value)
        return np.asarray(values[self.current_cols], dtype=np.float64)
