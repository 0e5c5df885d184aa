"""The `ems` command: every subcommand is an adapter module registered here."""

from __future__ import annotations

import importlib
import logging
import sys
from typing import NamedTuple

import click

from adapters.files.errors import InputFileError
from adapters.solver_banner import silence_solver_banner


class _Entry(NamedTuple):
    module: str
    """The module whose `COMMANDS` tuple holds the command."""
    summary: str
    """Its line in `ems --help`: the command's own short help (a test keeps them equal).
    A command whose help starts with a long sentence says it shorter with `short_help`."""


# A command's module is imported only when that command runs, or shows its own help:
# together they import pandas, matplotlib and pyomo, seconds that `ems --help` must not
# pay; and a broken optional edge does not take down the others.
_COMMANDS = {
    "run": _Entry(
        "adapters.cli.control",
        "Run the controller: central system, meter poller, control loop, status page.",
    ),
    "check": _Entry(
        "adapters.cli.check", "Validate a config as `ems run` does, every mistake at once."
    ),
    "plan": _Entry(
        "adapters.cli.plan", "Dry-run the controller: what it would send to each charger, and why."
    ),
    "chargers": _Entry(
        "adapters.cli.operator",
        "List chargers (no subcommand), register them, or act on one remotely.",
    ),
    "sessions": _Entry(
        "adapters.cli.operator", "List charging sessions (transactions), newest first."
    ),
    "tokens": _Entry(
        "adapters.cli.operator",
        "The local list of id tokens (RFID cards, app ids) chargers authorize against.",
    ),
    "meter": _Entry("adapters.cli.meter", "Site and circuit meters over Modbus TCP."),
    "sim-meter": _Entry(
        "adapters.cli.meter", "Serve a simulated meter over Modbus TCP from a load profile."
    ),
    "replay": _Entry(
        "adapters.cli.replay",
        "Replay a scenario folder under one strategy and write its KPIs, tables and plots.",
    ),
    "compare": _Entry(
        "adapters.cli.replay", "Replay a scenario under every strategy and compare them."
    ),
    "sweep": _Entry(
        "adapters.cli.replay", "Size a grid connection: replay a scenario at several fuse sizes."
    ),
    "import-acn": _Entry(
        "adapters.cli.acn",
        "Import ACN-Data sessions (Caltech's public charging data, JSON) as a scenario.",
    ),
    "demo": _Entry(
        "adapters.cli.demo",
        "Run a simulated site with the real controller, in one process on 127.0.0.1.",
    ),
}


class _Group(click.Group):
    """Loads a command's module when the command is asked for; reports input file
    errors as `file:line: field: message` lines with exit status 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is None:
            return None
        commands: tuple[click.Command, ...] = importlib.import_module(entry.module).COMMANDS
        return next(c for c in commands if c.name == cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, entry.summary) for name, entry in sorted(_COMMANDS.items())])

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except InputFileError as error:
            for each in error.errors:
                click.echo(f"error: {each}", err=True)
            if len(error.errors) > 1:
                click.echo(f"{len(error.errors)} problems", err=True)
            sys.exit(2)


@click.group(
    name="ems",
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=(
        "New here? `ems demo` runs a whole simulated site on this machine. On a real site: "
        "`ems meter read --config site.toml` checks the meter, `ems check --config site.toml` "
        "the whole config, `ems plan --config site.toml` shows what would be sent and why, "
        "`ems run --config site.toml` runs the controller. examples/site.toml documents "
        "every setting."
    ),
)
@click.version_option(package_name="sitecharge-ems", message="%(prog)s %(version)s")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Site charging controller: keeps many EVs charging under one grid connection.

    It reads the site meter over Modbus TCP, solves a linear program for every
    connector's current under the site and circuit limits, and sends the result to the
    chargers as OCPP charging profiles while acting as their central system.
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )


def main() -> None:
    silence_solver_banner()
    cli()
