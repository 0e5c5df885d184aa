"""The `ems` command: every subcommand is an adapter module registered here."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Any

import click

from adapters.files.errors import InputFileError

# Each module defines click commands/groups and lists them in its `COMMANDS` tuple.
# They are imported lazily so that `ems --help` stays fast and a broken optional edge
# does not take down the others.
_COMMAND_MODULES = (
    "adapters.cli.control",  # run
    "adapters.cli.plan",  # plan (dry-run)
    "adapters.cli.operator",  # chargers, sessions, tokens, remote commands
    "adapters.cli.meter",  # meter read, sim-meter
    "adapters.cli.replay",  # replay, compare
    "adapters.cli.acn",  # import-acn
    "adapters.cli.demo",  # demo
)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except InputFileError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=(
        "New here? `ems demo` runs a whole simulated site on this machine. On a real site: "
        "`ems meter read --config site.toml` checks the meter, `ems plan --config site.toml` "
        "shows what would be sent and why, `ems run --config site.toml` runs the controller. "
        "examples/site.toml documents every setting."
    ),
)
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


def _register() -> None:
    for name in _COMMAND_MODULES:
        module = importlib.import_module(name)
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def _silence_solver_banner() -> None:
    """HiGHS (1.16) prints a banner on file descriptor 1 the first time a solver is
    created in a process, whatever its options. Create that first one with fd 1 pointed
    at /dev/null so that machine-readable output (`ems plan --json`) stays clean."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        solver_type: Any = highspy.Highs
        solver_type()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def main() -> None:
    _silence_solver_banner()
    cli()
