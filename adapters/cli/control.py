"""`ems run`: the controller of a live site, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from pathlib import Path

import click

from adapters.cli.check import security_warnings, with_password
from adapters.cli.store import opened_store
from adapters.files.app_config import (
    DEFAULT_STORE_PATH,
    AppConfig,
    StoreSettings,
    load_app_config,
)
from adapters.runtime import SiteRuntime

LOG = logging.getLogger(__name__)


@click.command(
    "run", short_help="Run the controller: central system, meter poller, control loop, status page."
)
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The site file (site.toml): site, chargers, [control], [ocpp], [[meters]], "
    "[http], [store].",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file of the store (overrides [store] path, default "
    f"{DEFAULT_STORE_PATH}; created if missing).",
)
@click.option(
    "--http-port",
    type=click.IntRange(0, 65535),
    help="Port of the status page and API (overrides [http] port; 0 picks a free one).",
)
def run(config_path: Path, db: Path | None, http_port: int | None) -> None:
    """Run the controller: the OCPP central system for the chargers, the site meter
    poller, the allocation every control period, and the status page.

    Each profile sent is logged with its charger, connector, limit and reason, as are
    mode changes (conservative while the meter cannot be trusted) and meter faults.
    Stops cleanly on Ctrl-C or SIGTERM: sockets closed, store flushed; the chargers keep
    their fallback profiles. Every mistake in the config is reported as
    `file:line: field: message` (exit status 2; `ems check` reports the same), a store it
    cannot open or create with what to do, and each charger without a password is
    warned about.
    """
    config = _with_overrides(load_app_config(config_path), db, http_port)
    root = logging.getLogger()
    if root.level > logging.INFO:
        root.setLevel(logging.INFO)
        for noisy in ("websockets", "aiohttp.access", "pymodbus"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    with opened_store(config.store.path, create=True) as store:
        protected = with_password(store)
    for warning in security_warnings(config, protected):
        LOG.warning("%s", warning)
    asyncio.run(_serve(config))


def _with_overrides(config: AppConfig, db: Path | None, http_port: int | None) -> AppConfig:
    if db is not None:
        config = dataclasses.replace(config, store=StoreSettings(db))
    if http_port is not None:
        config = dataclasses.replace(config, http=dataclasses.replace(config.http, port=http_port))
    return config


async def _serve(config: AppConfig) -> None:
    runtime = SiteRuntime(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on every platform
            loop.add_signal_handler(signum, stop.set)
    try:
        await runtime.start()
    except OSError as error:
        raise click.ClickException(f"cannot listen: {error}") from error
    click.echo(f"central system: {runtime.ocpp_url}/<charger id>")
    click.echo(f"status page:    http://{config.http.host}:{runtime.http_port}/")
    click.echo("press Ctrl-C to stop")
    await runtime.serve(stop)
    click.echo("stopped")


COMMANDS: tuple[click.Command, ...] = (run,)
