"""Replay speed: wall and CPU time and simulated steps per CPU second for the shipped
scenarios and a synthetic year (365 days, 15-min steps, 50 connectors), printed as a table.

    .venv/bin/python -m benchmarks.replay            # everything, `optimal` strategy
    .venv/bin/python -m benchmarks.replay --quick    # skip the year
    .venv/bin/python -m benchmarks.replay --strategies optimal,equal,offline

(Run it as a module: as a script, `benchmarks/optimizer.py` would shadow the `optimizer`
package.)

Targets (`optimal`, 5-min steps for the shipped scenarios): a workplace day (about 55
connectors) within 1 s, the residential garage (220 connectors) within 8 s, the synthetic
year within 90 s. The verdict is on the CPU time of this process (`time.process_time`):
on a machine shared with other work the wall time measures the neighbours too. The
`÷ target` column is that CPU time over the target (at most 1 meets it).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from adapters.files.scenario import load_scenario
from benchmarks.tables import figure_table
from ems.replay import STRATEGIES, ReplayOptions, Scenario, compute_kpis, replay
from ems.replay.synthetic import REFERENCE, synthetic_year

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
TARGETS_S = {"workplace-day": 1.0, "residential-garage": 8.0, "synthetic-year": 90.0}


def _cases(quick: bool) -> list[tuple[Scenario, float]]:
    cases = [(load_scenario(SCENARIOS / name).scenario, 300.0) for name in REFERENCE]
    if not quick:
        cases.append((synthetic_year(), 900.0))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the synthetic year")
    parser.add_argument("--strategies", default="optimal", help="comma-separated strategies")
    args = parser.parse_args()
    strategies = [s for s in args.strategies.split(",") if s]
    unknown = set(strategies) - set(STRATEGIES)
    if unknown:
        parser.error(f"unknown strategies {sorted(unknown)}; choose from {', '.join(STRATEGIES)}")

    console = Console(width=180)
    table = figure_table(
        "replay speed",
        (
            "scenario",
            "strategy",
            "connectors",
            "sessions",
            "steps",
            "step s",
            "wall s",
            "cpu s",
            "steps/CPU s",
            "decide ms p50",
            "decide ms p95",
            "delivered %",
            "target",
            "÷ target",
        ),
        ("scenario", "strategy"),
    )
    for scenario, step_s in _cases(args.quick):
        for strategy in strategies:
            began, began_cpu = time.perf_counter(), time.process_time()
            result = replay(scenario, strategy, ReplayOptions(step_s=step_s))
            wall_s = time.perf_counter() - began
            cpu_s = time.process_time() - began_cpu
            kpis = compute_kpis(result)
            target = TARGETS_S.get(scenario.name) if strategy == "optimal" else None
            verdict = (
                "" if target is None else f"{'ok' if cpu_s <= target else 'MISSED'} <= {target:g} s"
            )
            table.add_row(
                scenario.name,
                strategy,
                str(len(scenario.site.connectors())),
                str(len(scenario.sessions)),
                str(kpis.steps),
                f"{step_s:g}",
                f"{wall_s:.2f}",
                f"{cpu_s:.2f}",
                f"{kpis.steps / cpu_s:,.0f}",
                f"{kpis.solve_ms_p50:.2f}",
                f"{kpis.solve_ms_p95:.2f}",
                f"{kpis.energy_delivered_pct:.2f}",
                verdict,
                "" if target is None else f"{cpu_s / target:.2f}",
            )
            console.print(
                f"{scenario.name} {strategy}: {wall_s:.2f} s, {cpu_s:.2f} s CPU", style="dim"
            )
    console.print(table)


if __name__ == "__main__":
    main()
