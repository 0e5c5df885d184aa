"""`ems demo` end to end: the simulated world, the real controller, and what is shown."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.live import Live

from adapters.demo.site import demo_chargers, site_config_text
from adapters.demo.table import site_line, status_view, summary_line
from adapters.demo.world import DemoWorld
from adapters.files.app_config import parse_app_config
from adapters.runtime import SiteRuntime

TABLE_REFRESH_S = 1.0
LOG_EVERY_S = 5.0
"""With `--no-table`: real seconds between the one-line site summaries."""


@dataclass(frozen=True)
class DemoOptions:
    chargers: int = 10
    speed: float = 30.0
    """How much faster than real time the building's day and the EVs run."""
    duration_s: float | None = None
    """Real seconds to run; None runs until interrupted."""
    http_port: int = 8090
    table: bool = True
    db: Path | None = None
    """The SQLite store; None keeps it in a temporary directory, removed at the end."""
    seed: int = 1


async def run_demo(options: DemoOptions, console: Console, stop: asyncio.Event) -> None:
    """Run the demo until `options.duration_s` has passed or `stop` is set."""
    with _store_path(options.db) as db_path:
        layout = demo_chargers(options.chargers)
        world = DemoWorld(layout, options.speed, options.seed)
        async with contextlib.AsyncExitStack() as stack:
            meter_port = await world.start_meter()
            stack.push_async_callback(world.stop_meter)
            # The controller stops first; the chargers see it go, as they would on a site.
            stack.push_async_callback(world.stop_chargers)
            text = site_config_text(
                layout, meter_port=meter_port, http_port=options.http_port, db_path=db_path
            )
            runtime = SiteRuntime(parse_app_config(text, db_path.parent / "demo-site.toml"))
            await runtime.start()
            stack.push_async_callback(runtime.stop)
            _print_welcome(console, runtime, options, db_path)
            await world.start_chargers(runtime.ocpp_url)
            await _show(console, runtime, world, options, stop)


@contextlib.contextmanager
def _store_path(db: Path | None) -> Iterator[Path]:
    if db is not None:
        yield db.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="ems-demo-") as directory:
        yield Path(directory) / "demo.sqlite"


def _print_welcome(
    console: Console, runtime: SiteRuntime, options: DemoOptions, db_path: Path
) -> None:
    site = runtime.config.site
    until = "Ctrl-C" if options.duration_s is None else f"{options.duration_s:g} s or Ctrl-C"
    url = f"http://127.0.0.1:{runtime.http_port}/"
    lines = (
        f"Status page: {url}  (JSON: {url}api/status, metrics: {url}metrics)",
        f"Site '{site.name}': {site.limits.phase_limit_a:g} A per phase,"
        f" {len(site.chargers)} chargers; OCPP on {runtime.ocpp_url}; store {db_path}",
        f"Site time runs {options.speed:g}x faster than real; stops after {until}.",
    )
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False)


async def _show(
    console: Console,
    runtime: SiteRuntime,
    world: DemoWorld,
    options: DemoOptions,
    stop: asyncio.Event,
) -> None:
    loop = asyncio.get_running_loop()
    end = None if options.duration_s is None else loop.time() + options.duration_s

    async def pause(seconds: float) -> bool:
        """Wait up to `seconds`; False once the run is over."""
        left = seconds if end is None else min(seconds, end - loop.time())
        if left <= 0 or stop.is_set():
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), left)
        return not stop.is_set()

    if not options.table:
        while await pause(LOG_EVERY_S):
            snapshot = runtime.status.snapshot()
            console.print(site_line(snapshot, world.clock()), soft_wrap=True)
            console.print(f"  {summary_line(snapshot)}", soft_wrap=True)
        return
    with Live(console=console, auto_refresh=False, transient=False) as live:
        while True:
            live.update(status_view(runtime.status.snapshot(), world.clock()), refresh=True)
            if not await pause(TABLE_REFRESH_S):
                return
