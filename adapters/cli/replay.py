"""`ems replay`, `ems compare` and `ems sweep`: run a scenario folder through the
strategies (and, for a sweep, through several sizes of the grid connection) and write KPIs,
tables and plots to an output folder."""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Sequence
from pathlib import Path

import click
from rich.console import Console
from rich.progress import track
from rich.table import Table

from adapters.cli.progress import progress_bar
from adapters.files.plots import plot_comparison, plot_sessions, plot_site_load, plot_sweep
from adapters.files.scenario import SITE_FILE, LoadedScenario, load_scenario
from ems.replay import (
    STRATEGIES,
    Kpis,
    ReplayOptions,
    ReplayResult,
    Scenario,
    compute_kpis,
    replay,
)
from ems.replay.engine import apply_options
from ems.replay.ev import BATTERIES
from ems.replay.tables import sessions_table, sweep_table, timeseries_table

KPIS_FILE = "kpis.json"
SESSIONS_FILE = "sessions.csv"
TIMESERIES_FILE = "timeseries.csv"
SITE_LOAD_PLOT = "site_load.png"
SESSIONS_PLOT = "sessions.png"
COMPARISON_FILE = "comparison.json"
COMPARISON_PLOT = "comparison.png"
SWEEP_FILE = "sweep.csv"
SWEEP_PLOT = "sweep.png"
TABLE_STRATEGIES = 5
"""Strategies per comparison table: more do not fit an 80-column terminal."""

_scenario_argument = click.argument(
    "scenario_dir", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
_step_option = click.option(
    "--step",
    "step_s",
    type=click.FloatRange(min=1.0),
    default=300.0,
    show_default=True,
    help="Simulated seconds per step.",
)
_min_current_option = click.option(
    "--min-current",
    "min_current_a",
    type=click.FloatRange(min=0.0),
    default=None,
    help="Override every connector's minimum current (A); 0 allows any rate.",
)
_limit_option = click.option(
    "--limit-a",
    "site_limit_a",
    type=click.FloatRange(min=0.0, min_open=True),
    default=None,
    help="Override the site's main fuse (A per phase); also caps a limits.csv series.",
)
_battery_option = click.option(
    "--battery",
    type=click.Choice(BATTERIES),
    default=None,
    help="The simulated batteries: 'tapering' (less above 80 % charge) or 'ideal' (the EV's "
    "maximum until its request is met, as in ACN-Sim). Default: the scenario's (tapering).",
)
_out_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for kpis.json, sessions.csv, timeseries.csv and the plots.",
)


def stated_control(loaded: LoadedScenario) -> frozenset[str]:
    """The `[control]` keys the scenario's site.toml states (already validated by
    `load_scenario`): a replay honours them over its own policy (`REPLAY_POLICY`)."""
    text = (loaded.path / SITE_FILE).read_text(encoding="utf-8-sig")
    table = tomllib.loads(text).get("control", {})
    return frozenset(table) if isinstance(table, dict) else frozenset()


@click.command("replay")
@_scenario_argument
@click.option(
    "--strategy",
    type=click.Choice(STRATEGIES),
    default="optimal",
    show_default=True,
    help="Who decides the currents: the product (optimal), a baseline, or the hindsight bound.",
)
@_step_option
@_min_current_option
@_battery_option
@_limit_option
@_out_option
def replay_command(
    scenario_dir: Path,
    strategy: str,
    step_s: float,
    min_current_a: float | None,
    battery: str | None,
    site_limit_a: float | None,
    out_dir: Path,
) -> None:
    """Replay a scenario folder under one strategy and write its KPIs, tables and plots."""
    console = Console()
    loaded = load_scenario(scenario_dir)
    options = ReplayOptions(
        step_s=step_s, min_current_a=min_current_a, site_limit_a=site_limit_a, battery=battery
    )
    result, kpis = _run(loaded, strategy, options, console)
    _write(result, kpis, out_dir, loaded.scenario)
    console.print(_table({strategy: kpis}, f"{loaded.scenario.name}: {strategy}"))
    _warn_fallbacks(console, {strategy: kpis})
    console.print(f"written to {out_dir}")


@click.command("compare", short_help="Replay a scenario under every strategy and compare them.")
@_scenario_argument
@_step_option
@_min_current_option
@_battery_option
@_limit_option
@_out_option
@click.option(
    "--strategies",
    default=",".join(STRATEGIES),
    show_default=True,
    help="Comma-separated strategies to run.",
)
def compare_command(
    scenario_dir: Path,
    step_s: float,
    min_current_a: float | None,
    battery: str | None,
    site_limit_a: float | None,
    out_dir: Path,
    strategies: str,
) -> None:
    """Replay a scenario under every strategy; write each one's outputs in a subfolder
    and print a comparison table."""
    names = _strategies(strategies)
    console = Console()
    loaded = load_scenario(scenario_dir)
    options = ReplayOptions(
        step_s=step_s, min_current_a=min_current_a, site_limit_a=site_limit_a, battery=battery
    )
    all_kpis: dict[str, Kpis] = {}
    for name in names:
        result, kpis = _run(loaded, name, options, console)
        _write(result, kpis, out_dir / name, loaded.scenario)
        all_kpis[name] = kpis
    out_dir.mkdir(parents=True, exist_ok=True)
    comparison = {name: k.as_dict() for name, k in all_kpis.items()}
    (out_dir / COMPARISON_FILE).write_text(json.dumps(comparison, indent=2) + "\n")
    fuse_a = apply_options(loaded.scenario, options).site.limits.phase_limit_a
    plot_comparison(all_kpis, fuse_a, out_dir / COMPARISON_PLOT)
    title = f"{loaded.scenario.name}: strategies compared"
    chunks = list(all_kpis.items())
    for first in range(0, len(chunks), TABLE_STRATEGIES):
        console.print(_table(dict(chunks[first : first + TABLE_STRATEGIES]), title))
    _warn_fallbacks(console, all_kpis)
    console.print(f"written to {out_dir}")


_SWEEP_EPILOG = """\b
Example:
  ems sweep scenarios/workplace-day --limit-a 120:250:10 --out out/sizing
      energy delivered and sessions fully served at every fuse from 120 A to 250 A
"""


@click.command(
    "sweep",
    epilog=_SWEEP_EPILOG,
    short_help="Size a grid connection: replay a scenario at several fuse sizes.",
)
@_scenario_argument
@click.option(
    "--limit-a",
    "limits_text",
    required=True,
    help="Main fuse sizes to try (A per phase): a list 160,200,250 or a range 100:300:25.",
)
@click.option(
    "--strategies",
    default="optimal,equal",
    show_default=True,
    help="Comma-separated strategies to run at every size.",
)
@_step_option
@_min_current_option
@_battery_option
@_out_option
def sweep_command(
    scenario_dir: Path,
    limits_text: str,
    strategies: str,
    step_s: float,
    min_current_a: float | None,
    battery: str | None,
    out_dir: Path,
) -> None:
    """Size a grid connection: replay a scenario at several main fuse sizes and show how
    much of the drivers' energy each strategy delivers at each size."""
    limits = _limits(limits_text)
    names = _strategies(strategies)
    console = Console()
    loaded = load_scenario(scenario_dir)
    if loaded.scenario.limits:
        console.print(
            f"note: {scenario_dir}/limits.csv varies the site limit over time; "
            "each size caps that series.",
            soft_wrap=True,
        )
    runs = [(limit, name) for limit in limits for name in names]
    results: dict[tuple[float, str], Kpis] = {}
    for limit, name in track(
        runs, description="sweep", console=console, transient=True, disable=not console.is_terminal
    ):
        options = ReplayOptions(
            step_s=step_s, min_current_a=min_current_a, site_limit_a=limit, battery=battery
        )
        result = replay(
            loaded.scenario, name, options, loaded.control, stated=stated_control(loaded)
        )
        results[(limit, name)] = compute_kpis(result)
    out_dir.mkdir(parents=True, exist_ok=True)
    sweep_table(results).to_csv(out_dir / SWEEP_FILE, index=False)
    plot_sweep(results, out_dir / SWEEP_PLOT)
    console.print(_sweep_table(results, limits, names, loaded.scenario.name))
    _warn_fallbacks(console, {f"{name} at {limit:g} A": k for (limit, name), k in results.items()})
    console.print(f"written to {out_dir}")


def _limits(text: str) -> list[float]:
    """`160,200,250` or `100:300:25` (both ends included), or a mix of the two."""
    values: list[float] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            bounds = [float(v) for v in part.split(":")]
        except ValueError:
            raise click.BadParameter(f"{part!r} is not a number", param_hint="--limit-a") from None
        if len(bounds) == 1:
            values.append(bounds[0])
            continue
        if len(bounds) != 3 or bounds[2] <= 0 or bounds[1] < bounds[0]:
            raise click.BadParameter(
                f"{part!r}: expected START:STOP:STEP with STOP >= START and STEP > 0",
                param_hint="--limit-a",
            )
        start, stop, step = bounds
        count = math.floor((stop - start) / step + 1e-9) + 1
        values += [round(start + k * step, 6) for k in range(count)]
    if not values or min(values) <= 0:
        raise click.BadParameter("needs sizes above 0 A", param_hint="--limit-a")
    return sorted(set(values))


def _strategies(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown or not names:
        raise click.BadParameter(
            f"unknown {', '.join(unknown) or 'empty list'}; choose from {', '.join(STRATEGIES)}",
            param_hint="--strategies",
        )
    return names


def _run(
    loaded: LoadedScenario, strategy: str, options: ReplayOptions, console: Console
) -> tuple[ReplayResult, Kpis]:
    with progress_bar(console, strategy) as progress:
        result = replay(
            loaded.scenario,
            strategy,
            options,
            loaded.control,
            progress,
            stated=stated_control(loaded),
        )
    return result, compute_kpis(result)


def _write(result: ReplayResult, kpis: Kpis, out_dir: Path, scenario: Scenario) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    document = {"scenario": result.scenario, "strategy": result.strategy, **kpis.as_dict()}
    (out_dir / KPIS_FILE).write_text(json.dumps(document, indent=2) + "\n")
    sessions_table(result).to_csv(out_dir / SESSIONS_FILE, index=False)
    timeseries_table(result).to_csv(out_dir / TIMESERIES_FILE, index=False)
    plot_site_load(result, scenario, out_dir / SITE_LOAD_PLOT)
    plot_sessions(result, out_dir / SESSIONS_PLOT)


_ROWS: Sequence[tuple[str, str]] = (
    ("energy delivered (kWh)", "energy_delivered_kwh"),
    ("energy delivered (%)", "energy_delivered_pct"),
    ("sessions fully served", "sessions_fully_served"),
    ("peak site power (kW)", "peak_site_power_kw"),
    ("peak phase current (A)", "peak_phase_current_a"),
    ("limit violation steps", "limit_violation_steps"),
    ("limit violation (kWh)", "limit_violation_kwh"),
    ("cost of the EVs' energy", "cost"),
    ("site energy cost (import − export)", "energy_cost"),
    ("peak 15-min import (kW)", "peak_import_kw"),
    ("demand charge", "demand_charge"),
    ("total cost", "total_cost"),
    ("export (kWh)", "export_kwh"),
    ("PV self-consumption (%)", "pv_self_consumption_pct"),
    ("Jain fairness", "jain_fairness"),
    ("profile changes", "profile_changes"),
    ("optimizer fallback steps", "optimizer_fallback_steps"),
    ("solve ms p50", "solve_ms_p50"),
    ("solve ms p95", "solve_ms_p95"),
    ("wall time (s)", "wall_seconds"),
)


def _warn_fallbacks(console: Console, kpis: dict[str, Kpis]) -> None:
    """Say when the controller ran on the optimizer's safe fallback: its numbers are then
    not the optimizer's."""
    for label, k in kpis.items():
        if k.optimizer_fallback_steps:
            console.print(
                f"[yellow]note:[/] {label} ran {k.optimizer_fallback_steps} of {k.steps} steps "
                "on the optimizer's safe fallback: the base load alone was above a limit, "
                "or the solver failed",
                soft_wrap=True,
            )


def _table(kpis: dict[str, Kpis], title: str) -> Table:
    """One column per strategy, one row per KPI: fits a terminal with `TABLE_STRATEGIES`."""
    table = Table(title=title)
    table.add_column("KPI", style="bold")
    for name in kpis:
        table.add_column(name, justify="right")
    documents = {name: k.as_dict() for name, k in kpis.items()}
    for label, field in _ROWS:
        cells = []
        for name, k in kpis.items():
            value = documents[name][field]
            if field == "sessions_fully_served":
                cells.append(f"{value}/{k.sessions_total}")
            else:
                cells.append("–" if value is None else f"{value:g}")
        table.add_row(label, *cells)
    return table


def _sweep_table(
    results: dict[tuple[float, str], Kpis],
    limits: Sequence[float],
    names: Sequence[str],
    title: str,
) -> Table:
    """One row per size; per strategy the energy delivered and the sessions fully served."""
    table = Table(title=f"{title}: main fuse sizes")
    table.add_column("fuse (A)", justify="right", style="bold")
    for name in names:
        table.add_column(f"{name} energy %", justify="right")
        table.add_column(f"{name} served", justify="right")
    for limit in limits:
        cells = [f"{limit:g}"]
        for name in names:
            k = results[(limit, name)]
            cells += [
                f"{k.energy_delivered_pct:.1f}",
                f"{k.sessions_fully_served}/{k.sessions_total}",
            ]
        table.add_row(*cells)
    return table


COMMANDS: tuple[click.Command, ...] = (replay_command, compare_command, sweep_command)
