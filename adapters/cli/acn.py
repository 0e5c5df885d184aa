"""`ems import-acn`: turn ACN-Data sessions into a scenario folder for `ems replay`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from adapters.cli.params import Moment
from adapters.clock import iso_utc
from adapters.files.acn_data import AcnImport, AcnSiteOptions, acn_scenario, read_acn_sessions
from adapters.files.scenario import write_scenario

SHOWN_SKIPS = 10


@click.command("import-acn")
@click.argument("sessions_json", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Scenario folder to write (site.toml, sessions.csv).",
)
@click.option(
    "--limit-a",
    type=click.FloatRange(min=0.0, min_open=True),
    required=True,
    help="The site's limit per phase (A); ACN-Data does not describe the site.",
)
@click.option(
    "--voltage",
    type=click.FloatRange(min=0.0, min_open=True),
    default=230.0,
    show_default=True,
    help="Phase-to-neutral voltage (V) that turns currents into power.",
)
@click.option(
    "--max-current",
    "max_current_a",
    type=click.FloatRange(min=0.0, min_open=True),
    default=32.0,
    show_default=True,
    help="Every connector's and EV's maximum current (A).",
)
@click.option(
    "--min-current",
    "min_current_a",
    type=click.FloatRange(min=0.0),
    default=6.0,
    show_default=True,
    help="Every connector's minimum current (A); 0 allows any rate, as ACN-Sim does.",
)
@click.option(
    "--ev-phases",
    type=click.IntRange(1, 3),
    default=1,
    show_default=True,
    help="Phases every EV charges on; connectors rotate, so 1-phase EVs spread over L1-L3.",
)
@click.option(
    "--energy",
    type=click.Choice(["delivered", "requested"]),
    default="delivered",
    show_default=True,
    help="The energy each driver wants: what was delivered (as ACN-Sim reads it), "
    "or what the driver asked for in the app (sessions without a request are skipped).",
)
@click.option(
    "--from", "start", type=Moment(), default=None, help="Keep sessions arriving at or after."
)
@click.option("--to", "end", type=Moment(), default=None, help="Keep sessions arriving before.")
@click.option("--name", default=None, help="Scenario name [default: the output folder's name].")
def import_acn_command(
    sessions_json: Path,
    out_dir: Path,
    limit_a: float,
    voltage: float,
    max_current_a: float,
    min_current_a: float,
    ev_phases: int,
    energy: str,
    start: datetime | None,
    end: datetime | None,
    name: str | None,
) -> None:
    """Import ACN-Data sessions (Caltech's public charging data, JSON) as a scenario.

    Each parking space becomes a charger with one connector; each session an EV plugged
    in from connection to disconnection that wants the energy it was delivered. Replay
    it with `ems replay OUT` or `ems compare OUT`.
    """
    if min_current_a > max_current_a:
        raise click.BadParameter("must not exceed --max-current", param_hint="--min-current")
    if start is not None and end is not None and end <= start:
        raise click.BadParameter("must be after --from", param_hint="--to")
    options = AcnSiteOptions(
        name=name or out_dir.resolve().name,
        limit_a=limit_a,
        voltage_v=voltage,
        max_current_a=max_current_a,
        min_current_a=min_current_a,
        ev_phases=ev_phases,
        energy="requested" if energy == "requested" else "delivered",
        start=start,
        end=end,
    )
    imported = acn_scenario(read_acn_sessions(sessions_json), options)
    console = Console()
    if imported.skipped:
        console.print(_skips(imported))
    if not imported.scenario.sessions:
        between = " arriving between --from and --to" if start or end else ""
        raise click.ClickException(f"no session of {sessions_json}{between} to import")
    write_scenario(imported.scenario, out_dir)
    console.print(_summary(imported))
    console.print(f"written to {out_dir}; compare the strategies on it:", soft_wrap=True)
    console.print(f"  ems compare {out_dir} --out OUTDIR", soft_wrap=True)


def _summary(imported: AcnImport) -> Table:
    scenario = imported.scenario
    sessions = scenario.sessions
    table = Table(title=f"{scenario.name}: imported from ACN-Data", show_header=False)
    table.add_row("sessions", str(len(sessions)))
    table.add_row("skipped", str(len(imported.skipped)))
    table.add_row("connectors", str(len(scenario.site.connectors())))
    table.add_row("first arrival", iso_utc(min(s.arrival for s in sessions)))
    table.add_row("last departure", iso_utc(max(s.departure for s in sessions)))
    table.add_row("energy wanted (kWh)", f"{sum(s.energy_wh for s in sessions) / 1000.0:.1f}")
    return table


def _skips(imported: AcnImport) -> Table:
    table = Table(title="skipped sessions")
    table.add_column("session")
    table.add_column("why")
    for skip in imported.skipped[:SHOWN_SKIPS]:
        table.add_row(skip.session_id, skip.reason)
    more = len(imported.skipped) - SHOWN_SKIPS
    if more > 0:
        table.add_row(f"… {more} more", "")
    return table


COMMANDS: tuple[click.Command, ...] = (import_acn_command,)
