"""The quality claims of `tests/ems/replay/test_quality.py` on every shipped scenario,
the residential garage (220 connectors) too, which the tests leave to this run: a garage
replay takes minutes, not seconds.

For every shipped scenario (`ems.replay.synthetic.REFERENCE`), at the connectors' own
6 A minimum and at no minimum:

- `optimal` breaks no limit and delivers within 1 % of the energy of `offline` (one LP
  that knows the whole scenario);
- it delivers at least as much energy, and serves as many sessions fully, as `equal` and
  `fcfs`;

and on `small` and the garage, the controller with its look-ahead delivers more than
without it.

    .venv/bin/python -m benchmarks.reference_quality                 # the garage only
    .venv/bin/python -m benchmarks.reference_quality --all           # every scenario
    .venv/bin/python -m benchmarks.reference_quality --scenario small

Prints a table, one row per check, and exits 1 if any check fails. (Run it as a module:
as a script, `benchmarks/optimizer.py` would shadow the `optimizer` package.)
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace

from rich.console import Console
from rich.table import Table

from adapters.solver_banner import silence_solver_banner
from ems.replay import ReplayOptions, Scenario, compute_kpis, replay
from ems.replay.controller_strategy import ControllerStrategy, replay_settings
from ems.replay.engine import run_replay
from ems.replay.synthetic import REFERENCE
from ems.replay.timeline import build_timeline
from ems.site import ControlSettings
from optimizer import Solver

HINDSIGHT_GAP = 0.01
"""The share of the hindsight bound's energy `optimal` may fall short by (as in the test)."""
MINIMUMS = {"6A-minimum": None, "no-minimum": 0.0}
LOOKAHEAD_SCENARIOS = ("small", "residential-garage")
SLOW = ("residential-garage",)
"""The shipped scenarios the tests leave to this benchmark."""


def quality_checks(name: str, min_current_a: float | None) -> list[tuple[str, bool, str]]:
    """(check, passed, numbers) of `optimal` against `offline`, `equal` and `fcfs`."""
    scenario = REFERENCE[name]()
    options = ReplayOptions(min_current_a=min_current_a)
    optimal = compute_kpis(replay(scenario, "optimal", options))
    offline = compute_kpis(replay(scenario, "offline", options))
    checks = [
        ("no limit broken", optimal.limit_violation_steps == 0, ""),
        (
            "within 1 % of offline",
            optimal.energy_delivered_kwh >= (1.0 - HINDSIGHT_GAP) * offline.energy_delivered_kwh,
            f"{optimal.energy_delivered_kwh:.1f} vs {offline.energy_delivered_kwh:.1f} kWh",
        ),
    ]
    for baseline in ("equal", "fcfs"):
        other = compute_kpis(replay(scenario, baseline, options))
        checks.append(
            (
                f"energy >= {baseline}",
                optimal.energy_delivered_kwh >= other.energy_delivered_kwh,
                f"{optimal.energy_delivered_kwh:.1f} vs {other.energy_delivered_kwh:.1f} kWh",
            )
        )
        checks.append(
            (
                f"fully served >= {baseline}",
                optimal.sessions_fully_served >= other.sessions_fully_served,
                f"{optimal.sessions_fully_served} vs {other.sessions_fully_served}",
            )
        )
    return checks


def optimal_kwh(scenario: Scenario, lookahead: bool) -> float:
    """The controller's delivered energy, with or without its look-ahead."""
    step_s = ReplayOptions().step_s
    settings = replace(replay_settings(ControlSettings(), step_s), lookahead=lookahead)
    strategy = ControllerStrategy(scenario.site, settings, Solver())
    result = run_replay(scenario, build_timeline(scenario, step_s), strategy, "optimal", None)
    return compute_kpis(result).energy_delivered_kwh


def lookahead_check(name: str) -> tuple[str, bool, str]:
    scenario = REFERENCE[name]()
    with_it, without = optimal_kwh(scenario, True), optimal_kwh(scenario, False)
    return ("look-ahead delivers more", with_it > without, f"{with_it:.1f} vs {without:.1f} kWh")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--all", action="store_true", help="every shipped scenario")
    chosen.add_argument("--scenario", choices=sorted(REFERENCE), help="one shipped scenario")
    args = parser.parse_args()
    names = sorted(REFERENCE) if args.all else [args.scenario] if args.scenario else list(SLOW)
    silence_solver_banner()

    console = Console(width=150)
    table = Table(title="reference scenarios: optimal against hindsight and the simple splits")
    for header in ("scenario", "minimum", "check", "result", "numbers", "wall s"):
        table.add_column(header)
    failed = 0
    for name in names:
        cases: list[tuple[str, float | None]] = [(k, v) for k, v in MINIMUMS.items()]
        for label, minimum in cases:
            start = time.perf_counter()
            checks = quality_checks(name, minimum)
            wall = f"{time.perf_counter() - start:.1f}"
            for check, passed, numbers in checks:
                failed += not passed
                table.add_row(name, label, check, "ok" if passed else "FAILED", numbers, wall)
        if name in LOOKAHEAD_SCENARIOS:
            start = time.perf_counter()
            check, passed, numbers = lookahead_check(name)
            failed += not passed
            wall = f"{time.perf_counter() - start:.1f}"
            table.add_row(name, "6A-minimum", check, "ok" if passed else "FAILED", numbers, wall)
    console.print(table)
    if failed:
        console.print(f"{failed} check(s) failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
