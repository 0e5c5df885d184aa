"""Speed of the allocation optimizer: cold build, persistent re-solve, raw HiGHS floor.

Run: `.venv/bin/python -m benchmarks.optimizer [--quick]`.

For each N connectors and T steps it prints, in milliseconds:

- cold: a fresh Solver building the LP (the Pyomo recipe, read into HiGHS) and solving
  the first problem; the second problem adds the previous-allocation terms (a new shape)
  and is not timed;
- step p50/p95: `Solver.solve` on a stream of problems of the same shape (base load,
  presence, EV limits, previous allocation change each step), everything included:
  validation, admission, fair shares, LP update and warm re-solve, Allocation assembly;
- lp p50: the LP part of that step alone (push changed numbers into HiGHS, run, read);
- raw p50/p95: the same LP (with the previous-allocation terms) held directly in a
  highspy model, the same changed entries pushed in place (precomputed, untimed), warm
  re-solve, read back the current columns: the floor;
- x p50, x p95: step p50 / raw p50 and step p95 / raw p95 — everything the controller
  pays per tick against the bare LP.

Then, at N=200, where the time of a step goes (median ms per stage).

Timed loops run with the benchmark's own data frozen out of the garbage collector (see
`frozen_heap`). The host is shared: repeat a run and compare medians.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import random
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import highspy
import numpy as np

import optimizer.lp_data
import optimizer.solver
from optimizer import Circuit, Connector, Horizon, Phase, Problem, SiteLimits, Solver
from optimizer.admission import admit
from optimizer.columns import columns_of
from optimizer.layout import layout_of
from optimizer.lp_data import LpData, lp_data_of
from optimizer.lp_index import costs, row_bounds
from optimizer.parameters import FloatArray, parameters_of, row_matrix
from optimizer.persistent import HIGHS_THREADS, PersistentModel

START = datetime(2025, 1, 6, tzinfo=UTC)
ROTATIONS = [
    (Phase.L1, Phase.L2, Phase.L3),
    (Phase.L2, Phase.L3, Phase.L1),
    (Phase.L3, Phase.L1, Phase.L2),
]
PER_CIRCUIT = 20


def site(n: int, steps: int, rng: random.Random) -> Problem:
    circuits = tuple(Circuit(f"c{k}", 120.0) for k in range(max(1, n // PER_CIRCUIT)))
    connectors = []
    for c in range(n):
        phases = rng.choice(ROTATIONS) if rng.random() < 0.7 else (rng.choice(list(Phase)),)
        connectors.append(
            Connector(
                id=f"cp{c}/1",
                phases=phases,
                max_current_a=rng.choice([16.0, 32.0]),
                circuit=circuits[min(c // PER_CIRCUIT, len(circuits) - 1)].id,
                ev_present=rng.random() < 0.8,
                ev_max_current_a=rng.choice([None, 10.0, 16.0, 32.0]),
                priority=rng.choice([1.0, 1.0, 2.0]),
                arrival=START - timedelta(minutes=rng.randint(0, 300)),
                departure=START + timedelta(minutes=rng.randint(30, 900)),
                energy_need_wh=rng.uniform(2_000.0, 40_000.0) if steps > 1 else None,
            )
        )
    horizon = None
    if steps > 1:
        horizon = Horizon(
            start=START,
            step_s=900.0,
            steps=steps,
            base_load_a=tuple((50.0, 60.0, 40.0) for _ in range(steps)),
            price_per_kwh=tuple(0.2 + 0.1 * np.sin(t / 8.0) for t in range(steps)),
        )
    limit = 6.0 * n + 100.0
    return Problem(
        site=SiteLimits(limit), connectors=tuple(connectors), circuits=circuits, horizon=horizon
    )


def next_step(problem: Problem, rng: random.Random, previous: dict[str, float]) -> Problem:
    """The next control step: base load drifts, a few sessions come and go."""
    base = tuple(max(0.0, b + rng.uniform(-3.0, 3.0)) for b in problem.base_load_a)
    connectors = []
    for c in problem.connectors:
        present = (not c.ev_present) if rng.random() < 0.02 else c.ev_present
        ev_max = rng.choice([None, 10.0, 16.0, 32.0]) if rng.random() < 0.05 else c.ev_max_current_a
        connectors.append(
            replace(
                c,
                ev_present=present,
                ev_max_current_a=ev_max,
                previous_current_a=previous.get(c.id),
            )
        )
    horizon = problem.horizon
    if horizon is not None and horizon.base_load_a is not None:
        shift = rng.uniform(-3.0, 3.0)
        loads = tuple(tuple(max(0.0, v + shift) for v in t) for t in horizon.base_load_a)
        horizon = replace(horizon, base_load_a=loads)  # type: ignore[arg-type]
    return replace(problem, base_load_a=base, connectors=tuple(connectors), horizon=horizon)  # type: ignore[arg-type]


def stream(n: int, steps: int, count: int, seed: int = 7) -> list[Problem]:
    rng = random.Random(seed)
    problems = [site(n, steps, rng)]
    previous: dict[str, float] = {}
    for _ in range(count):
        previous = {c.id: rng.uniform(0.0, 16.0) for c in problems[-1].connectors if c.ev_present}
        problems.append(next_step(problems[-1], rng, previous))
    return problems


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the benchmark's own data out of the cyclic collector's full passes.

    The stream holds every problem of the run (up to 60 × 1000 connectors), and a full
    collection walking them lands on whichever step happens to run; a controller holds
    one problem at a time. What the solver allocates is still collected as usual.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def measure(n: int, steps: int, reps: int) -> dict[str, float]:
    problems = stream(n, steps, reps)
    with frozen_heap():
        return _measure(problems)


def _measure(problems: list[Problem]) -> dict[str, float]:
    started = time.perf_counter()
    solver = Solver()
    solver.solve(problems[0])
    cold = (time.perf_counter() - started) * 1000.0
    solver.solve(problems[1])

    step_ms, lp_ms = [], []
    with LpClock() as clock:
        for problem in problems[2:]:
            clock.total_ms = 0.0
            t0 = time.perf_counter()
            solver.solve(problem)
            step_ms.append((time.perf_counter() - t0) * 1000.0)
            lp_ms.append(clock.total_ms)

    raw = _raw_floor(problems)
    return {
        "cold": cold,
        "p50": statistics.median(step_ms),
        "p95": percentile(step_ms, 95),
        "lp": statistics.median(lp_ms),
        "raw50": statistics.median(raw),
        "raw95": percentile(raw, 95),
    }


def _lp_data(problem: Problem):  # type: ignore[no-untyped-def]
    columns = columns_of(problem.connectors)
    layout = layout_of(problem, columns)
    params = parameters_of(problem, layout, columns)
    rows = row_matrix(layout, params, layout.member())
    admission = admit(params, layout.connector_ids, rows, params.row_rhs[0])
    return layout, lp_data_of(layout, params, rows, admission)


class LpClock:
    """Times the LP part of each step by wrapping PersistentModel.update and .solve."""

    def __init__(self) -> None:
        self.total_ms = 0.0
        self._update = PersistentModel.update
        self._solve = PersistentModel.solve

    def __enter__(self) -> LpClock:
        clock = self

        def update(model: PersistentModel, data: LpData) -> None:
            t0 = time.perf_counter()
            clock._update(model, data)
            clock.total_ms += (time.perf_counter() - t0) * 1000.0

        def solve(model: PersistentModel) -> FloatArray:
            t0 = time.perf_counter()
            result = clock._solve(model)
            clock.total_ms += (time.perf_counter() - t0) * 1000.0
            return result

        PersistentModel.update = update  # type: ignore[method-assign]
        PersistentModel.solve = solve  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        PersistentModel.update = self._update  # type: ignore[method-assign]
        PersistentModel.solve = self._solve  # type: ignore[method-assign]


def _full_arrays(model: PersistentModel, data):  # type: ignore[no-untyped-def]
    lower = np.asarray(model.highs.getLp().col_lower_)
    upper = np.asarray(model.highs.getLp().col_upper_)
    cols = model.current_cols.ravel()
    lower[cols] = data.current_lb.ravel()
    upper[cols] = data.current_ub.ravel()
    row_lower, row_upper = row_bounds(model.index, data)
    return lower, upper, row_lower, row_upper, costs(model.index, data)


def _raw_floor(problems: list[Problem]) -> list[float]:
    """Same LP directly in highspy: in-place changes of what differs, warm re-solve.

    Built from the second problem (the first with previous allocations, so the same
    shape as the timed steps) and solved once; each timed step then pushes what differs
    from the problem before it, exactly the sequence the Solver sees.
    """
    layout, data = _lp_data(problems[1])
    recipe = PersistentModel(layout, data)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", HIGHS_THREADS)
    highs.passModel(recipe.highs.getLp())
    highs.run()
    cols = recipe.current_cols.ravel()
    arrays = [_full_arrays(recipe, _lp_data(p)[1]) for p in problems[1:]]
    timings = []
    for before, after in itertools.pairwise(arrays):
        col_moved = np.flatnonzero((before[0] != after[0]) | (before[1] != after[1]))
        row_moved = np.flatnonzero((before[2] != after[2]) | (before[3] != after[3]))
        cost_moved = np.flatnonzero(before[4] != after[4])
        t0 = time.perf_counter()
        highs.changeColsBounds(
            col_moved.size, col_moved.astype(np.int32), after[0][col_moved], after[1][col_moved]
        )
        highs.changeRowsBounds(
            row_moved.size, row_moved.astype(np.int32), after[2][row_moved], after[3][row_moved]
        )
        highs.changeColsCost(cost_moved.size, cost_moved.astype(np.int32), after[4][cost_moved])
        highs.run()
        np.asarray(highs.getSolution().col_value)[cols]
        timings.append((time.perf_counter() - t0) * 1000.0)
    return timings


STAGES = {
    "read + validate": (optimizer.solver, ("columns_of", "validate_columns")),
    "layout + parameters": (optimizer.solver, ("layout_of", "parameters_of", "row_matrix")),
    "admission": (optimizer.solver, ("admit",)),
    "fair shares": (optimizer.lp_data, ("fair_shares",)),
    "lp data": (optimizer.solver, ("lp_data_of",)),
    "assembly": (optimizer.solver, ("clean", "binding_names", "allocation_of")),
}


def breakdown(n: int, steps: int, reps: int) -> dict[str, float]:
    """Median ms per stage of `Solver.solve` (`lp data` excludes the fair shares in it)."""
    problems = stream(n, steps, reps)
    solver = Solver()
    solver.solve(problems[0])
    solver.solve(problems[1])
    spent: dict[str, float] = {}
    originals = []

    def timed(stage: str, function):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[stage] = spent.get(stage, 0.0) + (time.perf_counter() - t0) * 1000.0

        return wrapper

    for stage, (module, names) in STAGES.items():
        for name in names:
            originals.append((module, name, getattr(module, name)))
            setattr(module, name, timed(stage, getattr(module, name)))
    for name in ("update", "solve"):
        originals.append((PersistentModel, name, getattr(PersistentModel, name)))
        stage = "LP update" if name == "update" else "LP run + read back"
        setattr(PersistentModel, name, timed(stage, getattr(PersistentModel, name)))
    samples: dict[str, list[float]] = {}
    try:
        with frozen_heap():
            for problem in problems[2:]:
                spent.clear()
                t0 = time.perf_counter()
                solver.solve(problem)
                total = (time.perf_counter() - t0) * 1000.0
                spent["lp data"] = spent.get("lp data", 0.0) - spent.get("fair shares", 0.0)
                spent["other"] = total - sum(spent.values())
                spent["step"] = total
                for stage, ms in spent.items():
                    samples.setdefault(stage, []).append(ms)
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    return {stage: statistics.median(values) for stage, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, small sizes")
    args = parser.parse_args()
    sizes = [10, 50, 200] if args.quick else [10, 50, 200, 1000]
    columns = ["N", "T", "cold", "step p50", "step p95", "lp p50", "raw p50", "raw p95"]
    print(" ".join(f"{c:>9}" for c in [*columns, "x p50", "x p95"]))
    for steps in (1, 96):
        for n in sizes:
            reps = 15 if args.quick else (60 if steps == 1 else 20)
            if steps == 96 and n >= 200:
                reps = min(reps, 10)
            r = measure(n, steps, reps)
            values = [r["cold"], r["p50"], r["p95"], r["lp"], r["raw50"], r["raw95"]]
            values += [r["p50"] / r["raw50"], r["p95"] / r["raw95"]]
            print(f"{n:>9} {steps:>9} " + " ".join(f"{v:>9.2f}" for v in values), flush=True)
    print("\nwhere the time goes at N=200 (median ms)")
    parts = {steps: breakdown(200, steps, 15 if args.quick else 40) for steps in (1, 96)}
    print(f"{'stage':>22} {'T=1':>9} {'T=96':>9}")
    for stage in parts[1]:
        print(f"{stage:>22} {parts[1][stage]:>9.2f} {parts[96].get(stage, 0.0):>9.2f}")


if __name__ == "__main__":
    main()
