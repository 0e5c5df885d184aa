"""`ems demo`: the whole product on one machine, with every device simulated."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

import click
from rich.console import Console

from adapters.demo.run import DemoOptions, run_demo
from adapters.demo.site import SITE_LIMIT_A


@click.command(
    epilog=f"""\b
What to look at:
  - the table (or http://127.0.0.1:PORT/): EVs arrive and start charging;
    once they want more than the {SITE_LIMIT_A:g} A fuse leaves beside the
    building, the controller shares it out: every allowance is 0 or at least
    6 A, and the reason column says what caps a connector or why it is paused;
  - the site line: the measured current on each phase stays under the limit;
  - 1-phase and rotated 3-phase connectors load different site phases;
  - EVs above 80 % charge taper and draw less than allowed; the spare
    current goes to the others.
\b
Examples:
  ems demo                          run until Ctrl-C, status page on port 8090
  ems demo --chargers 4 --speed 10  a smaller, slower site
  ems demo --duration 60 --no-table --http-port 0
""",
)
@click.option(
    "--chargers",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="Number of simulated chargers (one connector each).",
)
@click.option(
    "--speed",
    type=click.FloatRange(1.0, 600.0),
    default=30.0,
    show_default=True,
    help="How much faster than real time the building's day, arrivals, departures and "
    "battery filling run. The controller itself keeps real time.",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=1.0),
    help="Stop after this many real seconds (default: run until Ctrl-C).",
)
@click.option(
    "--http-port",
    type=click.IntRange(0, 65535),
    default=8090,
    show_default=True,
    help="Port of the status page, JSON API and /metrics on 127.0.0.1 (0: a free one; "
    "the URL printed at start shows which).",
)
@click.option("--no-table", is_flag=True, help="No live table: a site summary line every 5 s.")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the SQLite store in this file (default: a temporary file, removed at the end).",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="Seed of the EV arrivals and EVs."
)
def demo(
    chargers: int,
    speed: float,
    duration: float | None,
    http_port: int,
    no_table: bool,
    db: Path | None,
    seed: int,
) -> None:
    """Run a simulated site with the real controller, in one process on 127.0.0.1.

    No config file, charger or meter needed. It starts:

    \b
    - a site meter (Modbus TCP, SDM630 registers) measuring an office building's
      day, from 07:00, plus everything the chargers draw;
    - the real controller: OCPP central system, meter poller, LP allocation, SQLite
      store and the status server, on a 63 A per phase grid connection;
    - simulated chargers (OCPP 1.6 and 2.0.1, 1- and 3-phase, some with rotated
      phases) and a seeded fleet of EVs that arrive, charge, taper and leave.

    It prints the status page URL and a live table: for every connector its state, the
    current allowed and drawn per site phase, and why; above it the site current per
    phase against the limit and the controller's mode.
    """
    options = DemoOptions(
        chargers=chargers,
        speed=speed,
        duration_s=duration,
        http_port=http_port,
        table=not no_table,
        db=db,
        seed=seed,
    )
    console = Console()
    try:
        asyncio.run(_until_stopped(options, console))
    except OSError as error:  # a port in use, most likely the status page's
        raise click.ClickException(
            f"cannot run the demo: {error} (try --http-port 0 for a free port)"
        ) from error


async def _until_stopped(options: DemoOptions, console: Console) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on every platform
            loop.add_signal_handler(signum, stop.set)
    await run_demo(options, console, stop)
    console.print("demo stopped" if stop.is_set() else "demo finished")


COMMANDS: tuple[click.Command, ...] = (demo,)
