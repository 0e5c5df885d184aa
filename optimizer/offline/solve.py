"""Solve the hindsight problem with HiGHS: the LP relaxation, or the MIP of the minimums.

The recipe (`model.build_model`) is read into a highspy model once (`HighsMirror`) and the
Pyomo model dropped, as the allocation LP is (`optimizer.persistent`); the money solve
then only changes the costs, the objective's sense and the `keep-energy` row's floor by
index. The LP runs the interior-point method without crossover: the many near-identical
sessions make it highly degenerate, and a replay needs the currents, not a vertex. The
MIP stops at `MipOptions.rel_gap` or its time limit and reports its dual bound.
"""

from __future__ import annotations

import gc
from typing import Any

import highspy
import numpy as np
from pyomo.common.gc_manager import PauseGC

from optimizer.highs_mirror import HighsMirror
from optimizer.offline.model import Pairs, build_model, pairs_of
from optimizer.offline.problem import MipOptions, OfflineProblem, OfflineSolution
from optimizer.parameters import FloatArray
from optimizer.persistent import HIGHS, HIGHS_THREADS

ENERGY_TOLERANCE = 1e-6
"""The money solve keeps the first solve's energy to this share (the interior-point
solution is that exact)."""

LP_OPTIONS: dict[str, Any] = {
    "output_flag": False,
    "threads": HIGHS_THREADS,
    "solver": "ipm",
    "run_crossover": "off",
}
FALLBACK_OPTIONS: dict[str, Any] = {"solver": "simplex"}
"""For an LP the interior point method leaves unsolved: without crossover it can stop short
of its tolerances, which HiGHS reports as status Unknown (the generated family's
depot-7029, `python -m benchmarks.quality --seed 7000`, where the simplex method, or the
same method with crossover, solved it in about a second)."""
_SOLVED = (highspy.HighsModelStatus.kOptimal,)
_STOPPED = (
    highspy.HighsModelStatus.kTimeLimit,
    highspy.HighsModelStatus.kSolutionLimit,
    highspy.HighsModelStatus.kInterrupt,
)
"""A MIP stopped early still has its best plan and its bound."""


class OfflineSolveError(RuntimeError):
    """HiGHS found no plan."""


class _Built:
    """The HiGHS model of one problem with the columns and rows the solve needs;
    `integral` if it has binaries (a MIP form with a minimum to keep)."""

    def __init__(self, problem: OfflineProblem, pairs: Pairs, mip: MipOptions | None) -> None:
        with PauseGC():
            model = build_model(problem, pairs, minimums=mip is not None)
            mirror = HighsMirror(model)
            lp = mirror.lp
            self.x_cols = mirror.cols(model.x, list(range(len(pairs.step))))
            self.integral = mip is not None and len(model.chosen) > 0
            if self.integral:
                integrality = [highspy.HighsVarType.kContinuous] * lp.num_col_
                binaries = [
                    *mirror.cols(model.on, list(model.chosen)),
                    *mirror.cols(model.done, list(model.minimum_sessions)),
                ]
                for col in binaries:
                    integrality[col] = highspy.HighsVarType.kInteger
                lp.integrality_ = integrality
            self.money_cost: FloatArray | None = None
            self.keep_row = -1
            if problem.money is not None:
                self.money_cost = mirror.costs(model.money_objective)
                self.keep_row = mirror.row(model.keep_energy)
            self.highs: Any = HIGHS()
            options = LP_OPTIONS if mip is None else _mip_options(mip)
            for name, value in options.items():
                self.highs.setOptionValue(name, value)
            self.highs.passModel(lp)
            del model, mirror
            gc.collect(0)  # the dropped model, as `optimizer.persistent.build_lp` collects it


def _mip_options(mip: MipOptions) -> dict[str, Any]:
    return {
        "output_flag": False,
        "threads": HIGHS_THREADS,
        "time_limit": mip.time_limit_s,
        "mip_rel_gap": mip.rel_gap,
    }


def _run(highs: Any, integral: bool) -> str:
    """Solve; an LP the interior point method leaves unsolved is solved again by the
    simplex method (`FALLBACK_OPTIONS`). The error names HiGHS's status if neither does."""
    highs.run()
    if not integral and not _solved(highs, integral):
        for name, value in FALLBACK_OPTIONS.items():
            highs.setOptionValue(name, value)
        highs.run()
    status = highs.getModelStatus()
    if not _solved(highs, integral):
        raise OfflineSolveError(highs.modelStatusToString(status))
    return str(highs.modelStatusToString(status))


def _solved(highs: Any, integral: bool) -> bool:
    status = highs.getModelStatus()
    return bool(
        (status in _SOLVED or (integral and status in _STOPPED))
        and highs.getInfo().primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    )


def solve_offline(problem: OfflineProblem, mip: MipOptions | None = None) -> OfflineSolution:
    """The plan of most energy (then, with money, of least cost) and a bound on the energy.

    Without `mip` the LP relaxation: the minimums are not imposed, so its optimum bounds
    any plan with or without them. With `mip`, the MIP of the minimums (`model`)."""
    pairs = pairs_of(problem)
    if not pairs.step:
        empty = tuple(np.zeros(0) for _ in problem.sessions)
        return OfflineSolution(empty, 0.0, 0.0, "Empty")
    built = _Built(problem, pairs, mip)
    highs = built.highs
    status = _run(highs, built.integral)
    info = highs.getInfo()
    weighted = info.mip_dual_bound if built.integral else info.objective_function_value
    # The objective discounts later steps; dividing by the deepest discount bounds energy.
    bound_wh = float(weighted) / (1.0 - problem.earlier_weight * (problem.steps - 1))
    current = _currents(highs, built, problem, pairs)
    energy_wh = float(np.dot(current, pairs.wh_per_a))
    if built.money_cost is not None:
        columns = np.arange(len(built.money_cost), dtype=np.int32)
        highs.changeColsCost(len(columns), columns, built.money_cost)
        highs.changeObjectiveSense(highspy.ObjSense.kMinimize)
        floor = energy_wh * (1.0 - ENERGY_TOLERANCE)
        highs.changeRowBounds(built.keep_row, floor, highspy.kHighsInf)
        status = _run(highs, built.integral)
        current = _currents(highs, built, problem, pairs)
        energy_wh = float(np.dot(current, pairs.wh_per_a))
    per_session = tuple(current[span.start : span.stop] for span in pairs.spans)
    return OfflineSolution(per_session, energy_wh, max(bound_wh, energy_wh), status)


def _currents(highs: Any, built: _Built, problem: OfflineProblem, pairs: Pairs) -> FloatArray:
    """x, held within its bounds (the interior point may be off by its tolerance)."""
    values = np.asarray(highs.getSolution().col_value)[built.x_cols]
    maximum = np.array([problem.sessions[i].max_a for i in pairs.session])
    return np.asarray(np.clip(values, 0.0, maximum), dtype=np.float64)
