"""`ems check`: a config validated as `ems run` validates it, with nothing started.

It reports every mistake in the file at once (`file:line: field: what to do`, exit status
2), whether `ems run` could open its store, and what the config leaves open to anyone on
the network: the warnings `ems run` logs at start.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Collection
from pathlib import Path

import click

from adapters.cli.prices import describe, read_price_url
from adapters.cli.store import db_option, opened_store, store_problem
from adapters.files.app_config import (
    DEFAULT_CONFIG_PATH,
    VIRTUAL_METER_ID,
    AppConfig,
    StoreSettings,
    load_app_config,
)
from adapters.runtime.price_feed import PriceFetchError
from adapters.storage import SqliteStore


@click.command("check")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="EMS_CONFIG",
    default=DEFAULT_CONFIG_PATH,
    show_default=True,
    help="The site file to check.",
)
@db_option
def check(config_path: Path, db_path: Path | None) -> None:
    """Validate a config as `ems run` does, every mistake at once.

    Checks every section (site, circuits, chargers, [control], [ocpp], [[meters]],
    [http], [store]), the files it names, and that the store can be opened or created;
    then summarises the site, reads the price URL once (as `ems run` would) and warns
    about chargers without a password. Nothing is
    started or sent. Exit status 2 when `ems run` would refuse to start.
    """
    config = load_app_config(config_path)
    if db_path is not None:
        config = dataclasses.replace(config, store=StoreSettings(db_path))
    store = config.store.path
    problem = store_problem(store, create=True)
    if problem is not None:
        click.echo(f"error: store {store}: {problem}", err=True)
        sys.exit(2)
    click.echo(f"{config_path}: OK")
    for line in summary(config):
        click.echo(f"  {line}")
    read = read_price_url(config.prices)
    if config.prices is not None and read is not None:
        line = describe(config.prices, read)
        click.echo(f"warning: {line}" if isinstance(read, PriceFetchError) else f"  {line}")
    for warning in security_warnings(config, _protected(store)):
        click.echo(f"warning: {warning}")


def summary(config: AppConfig) -> list[str]:
    """What the controller will be: the site, its meter, where it listens, its store."""
    site, ocpp = config.site, config.ocpp
    scheme = "ws" if ocpp.tls_cert is None else "wss"
    return [
        f"site: {site.name}, {site.limits.phase_limit_a:g} A per phase, "
        f"{len(site.chargers)} chargers, {len(site.connectors())} connectors",
        f"site meter: {_meter(config)}",
        f"central system: {scheme}://{ocpp.host}:{ocpp.port}/{ocpp.path_prefix}/<charger id>",
        f"status page: http://{config.http.host}:{config.http.port}/",
        f"store: {config.store.path}",
        *(f"pv: {m.id} ({m.map} at {m.host})" for m in config.pv_meters),
        *_caps(config),
    ]


def _caps(config: AppConfig) -> list[str]:
    caps = config.site.grid_caps
    if config.grid_caps_path is None:
        return []
    last = f", the last from {caps[-1].start.isoformat()}" if caps else ""
    steps = f"{len(caps)} step{'' if len(caps) == 1 else 's'}"
    return [f"grid operator caps: {steps} in {config.grid_caps_path}{last}"]


def _meter(config: AppConfig) -> str:
    meter = config.site_meter
    if meter is None or meter.id == VIRTUAL_METER_ID:
        return "none: the worst base load is assumed at all times"
    return meter.id if meter.is_virtual else f"{meter.id} ({meter.map} at {meter.host})"


def security_warnings(config: AppConfig, protected: Collection[str]) -> list[str]:
    """What the config leaves open to anyone who reaches the central system: one line per
    charger it admits that has no password, neither in `[ocpp.passwords]` nor in the store
    (`protected`: the ids that have one there); and admitting unknown chargers."""
    ocpp = config.ocpp
    where = f"{ocpp.host}:{ocpp.port}"
    lines = [
        f"charger {charger} has no password: anyone who reaches {where} can connect as it."
        f" `ems chargers add {charger}` gives it one (printed once, to set on the charger);"
        " or set one in [ocpp.passwords]"
        for charger in ocpp.known_chargers
        if charger not in ocpp.passwords and charger not in protected
    ]
    if ocpp.unknown_chargers == "accept":
        lines.append(
            f'[ocpp] unknown_chargers = "accept": any charger id that reaches {where} is'
            ' admitted, without a password; "pending" waits for `ems chargers accept`'
        )
    return lines


def with_password(store: SqliteStore) -> set[str]:
    """The chargers the store holds a password for."""
    return {r.charger_id for r in store.list_chargers() if r.password_hash is not None}


def _protected(store: Path) -> set[str]:
    if not store.exists():
        return set()
    with opened_store(store, create=False) as opened:
        return with_password(opened)


COMMANDS: tuple[click.Command, ...] = (check,)
