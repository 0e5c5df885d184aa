"""Does the main fuse hold when the world lies? The real `ems run` against a simulated site
(`benchmarks.fault_rig`), one fault per row, printed as a table.

    .venv/bin/python -m benchmarks.faults                       # every row
    .venv/bin/python -m benchmarks.faults --rows frozen,blind   # some rows
    .venv/bin/python -m benchmarks.faults --seconds 20          # each row 20 s from its fault
    .venv/bin/python -m benchmarks.faults --keep DIR            # keep configs, stores, logs

Columns: seconds the TRUE current (building + EVs, sampled every 100 ms) spent over the
site fuse or a circuit limit, from the first EV plugged in to the end, and how much of it
came before the fault started (start-up and settling); the worst overshoot in A; the time
from the fault to the controller's status API saying it is no longer in normal mode (meter
faults; "never" fails such a row; in brackets for other rows); the most loaded phase as a
share of the fuse while within every limit, from the fault on. Below the table, per row:
where it first went over, what the controller said about the meter, and its warnings.
Exits 1 if any row went over a limit (or could not run).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from benchmarks.fault_rig import ROWS, RowResult, SiteSpec, run_row, select_rows
from benchmarks.tables import figure_table


def _row(result: RowResult) -> list[str]:
    ttc = result.time_to_conservative_s
    if result.meter_fault:
        to_conservative = "never" if ttc is None else f"{ttc:.1f}"
    else:
        to_conservative = "-" if ttc is None else f"({ttc:.1f})"
    used = result.fuse_used_pct
    over = result.over_samples > 0
    missed = result.meter_fault and ttc is None
    if result.error is not None:
        return [result.name, "-", "-", "-", "-", "-", "RIG FAILED"]
    return [
        result.name,
        f"{result.over_s:.1f}",
        f"{result.over_before_s:.1f}",
        f"{result.worst_over_a:.1f}",
        to_conservative,
        "-" if used is None else f"{used:.0f}",
        "OVER" if over else ("not conservative" if missed else "ok"),
    ]


async def _run(names: list[str] | None, seconds: float | None, keep: Path | None) -> int:
    console = Console(width=150)
    spec = SiteSpec()
    console.print(
        f"site: fuse {spec.limit_a:g} A/phase, worst base load {spec.worst_a}, "
        f"circuits {dict(spec.circuits)}; control period {spec.period_s:g} s, meter every "
        f"{spec.meter_interval_s:g} s, EV reaction {spec.ev_reaction_s:g} s",
        style="dim",
    )
    results: list[RowResult] = []
    with tempfile.TemporaryDirectory(prefix="ems-faults-") as scratch:
        root = keep or Path(scratch)
        for row in select_rows(names):
            began = time.monotonic()
            workdir = root / row.name
            workdir.mkdir(parents=True, exist_ok=True)
            try:
                result = await run_row(row, workdir, seconds, spec)
            except Exception as error:
                console.print(f"{row.name}: the rig failed: {error}", style="bold red")
                result = RowResult(row.name, row.title, 0.0, meter_fault=row.meter_fault)
                result.error = str(error)
            results.append(result)
            console.print(f"{row.name}: {time.monotonic() - began:.0f} s", style="dim")
    table = figure_table(
        "fault rig: true current against the fuse",
        (
            "fault",
            "over s",
            "pre-fault s",
            "worst A",
            "to conservative s",
            "fuse used %",
            "verdict",
        ),
        ("fault", "verdict"),
    )
    for result in results:
        table.add_row(*_row(result))
    console.print()
    for result in results:
        console.print(result.summary(), markup=False, highlight=False)
        console.print()
    console.print(table)
    if keep is not None:
        console.print(f"configs, stores and controller logs kept in {keep}")
    return 1 if any(r.over_samples or r.error is not None for r in results) else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", help=f"comma-separated rows (default: all): {', '.join(ROWS)}", default=""
    )
    parser.add_argument("--seconds", type=float, help="run each row this long from its fault")
    parser.add_argument("--keep", type=Path, help="keep each row's config, store and logs here")
    args = parser.parse_args()
    names = [n for n in args.rows.split(",") if n]
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        parser.error(f"unknown rows {unknown}; choose from {', '.join(ROWS)}")
    if args.seconds is not None and not 1 <= args.seconds <= 600:
        parser.error("--seconds must be within 1..600")
    sys.exit(asyncio.run(_run(names or None, args.seconds, args.keep)))


if __name__ == "__main__":
    main()
