"""`ems plan`: a dry-run of the controller. What would be sent, to whom, and why; nothing
is sent, no network is opened."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console

from adapters.cli.params import Moment
from adapters.cli.prices import read_price_url, with_url_prices
from adapters.cli.progress import progress_bar
from adapters.clock import utc_now
from adapters.files.app_config import load_controller_config
from adapters.files.scenario import load_scenario
from adapters.files.site_config import FieldReader
from adapters.files.tariff_config import parse_price_source
from adapters.ocpp.profiles import OCPP16, OCPP201, PROTOCOLS
from adapters.planning.document import document
from adapters.planning.dry_run import dry_run, horizon_settings
from adapters.planning.durations import parse_duration_s
from adapters.planning.scenario_state import scenario_state
from adapters.planning.snapshot import Snapshot, load_snapshot
from adapters.planning.tables import print_dry_run
from adapters.runtime.price_feed import PriceFetchError
from ems.replay import replay
from ems.replay.controller_strategy import REPLAY_POLICY
from ems.site import ControlSettings, SiteConfig


class _Duration(click.ParamType[float]):
    name = "DURATION"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            return parse_duration_s(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


_EPILOG = """\b
Examples:
  ems plan --config examples/site.toml
      the config alone: station caps and fallbacks, and their arithmetic
  ems plan --config examples/site.toml --state examples/snapshots/office-garage.json
      the profiles for the sessions in the snapshot, as the controller would send them
  ems plan --config examples/site.toml --state snap.json --horizon 12h --json
      the 12-hour schedule per connector, as one JSON document
  ems plan --scenario scenarios/small --at 2025-03-03T10:00:00Z --horizon 4h
      the state of a replay scenario at 10:00 UTC
"""


@click.command(
    "plan",
    epilog=_EPILOG,
    short_help="Dry-run the controller: what it would send to each charger, and why.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The site config (site.toml), validated whole as `ems run` validates it; the plan "
    "uses its site, circuits, chargers and [control]. Required unless --scenario is given.",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A JSON snapshot of the live state: site meter, chargers (protocol, capabilities), "
    "connectors with their sessions, draw, energy need and departure. The format is in "
    "adapters/planning/snapshot.py; an example in examples/snapshots/. Without it: the "
    "config alone, with no EV plugged in.",
)
@click.option(
    "--at",
    "at",
    type=Moment(),
    help="The moment to plan for, ISO 8601 with an offset, e.g. 2025-03-03T09:00:00Z. "
    "Default: the snapshot's 'at', else now. Required with --scenario.",
)
@click.option(
    "--horizon",
    "horizon_s",
    type=_Duration(),
    help="Plan ahead this long, e.g. 30m, 2h, 12h, 1d, in steps of [control] horizon_step_s "
    "(default 15 min); prints the schedule per connector and the multi-period profiles, "
    "within each charger's ChargingScheduleMaxPeriods. Sessions need an energy need or a "
    "departure for a plan over time.",
)
@click.option(
    "--scenario",
    "scenario_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Plan from a replay scenario folder instead: its site.toml, and at --at the "
    "sessions plugged in (departure, and the energy still needed after the scenario is "
    "replayed under the controller up to --at) and the base load. "
    "Not with --config or --state.",
)
@click.option(
    "--protocol",
    type=click.Choice(PROTOCOLS),
    default=None,
    help=f"The OCPP version of chargers the snapshot does not describe. Default: {OCPP16}; "
    f"with --scenario {OCPP201} (its session ids are not integers).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of tables.")
def plan_command(
    config_path: Path | None,
    state_path: Path | None,
    at: datetime | None,
    horizon_s: float | None,
    scenario_dir: Path | None,
    protocol: str | None,
    as_json: bool,
) -> None:
    """Dry-run the controller: per connector the allowed current per phase, power, state,
    reason and bottleneck; the site's limit, base load and headroom; the fallbacks and the
    arithmetic showing they fit; and the exact OCPP payloads it would send to each charger.

    Nothing is sent: the dry-run opens no connection at all.
    """
    if scenario_dir is not None:
        if config_path is not None or state_path is not None:
            raise click.UsageError(
                "--scenario brings its own site and state: drop --config/--state"
            )
        if at is None:
            raise click.UsageError("--scenario needs --at: the moment of the scenario to plan")
        loaded = load_scenario(scenario_dir)
        with progress_bar(Console(stderr=True), "replaying up to --at") as progress:
            replayed = replay(loaded.scenario, "optimal", control=loaded.control, progress=progress)
        site, snapshot = scenario_state(loaded.scenario, at, replayed.delivered_before(at))
        # Plan as the replay up to --at did: with its policy (look-ahead, so money too).
        settings = replace(loaded.control, **dict(REPLAY_POLICY))  # type: ignore[arg-type]
        default_protocol = protocol or OCPP201
    elif config_path is None:
        raise click.UsageError("give --config site.toml (or --scenario DIR --at TIME)")
    else:
        config = load_controller_config(config_path)
        site, settings, default_protocol = config.site, config.control, protocol or OCPP16
        source = parse_price_source(
            FieldReader(config_path, config.text), config.data.get("tariff")
        )
        read = read_price_url(source)
        if isinstance(read, PriceFetchError):
            click.echo(f"warning: prices: {read}; planning without them", err=True)
        elif read is not None:
            site = with_url_prices(site, read)
        snapshot = Snapshot()
        if state_path is not None:
            snapshot = load_snapshot(state_path, site, default_protocol)
    now = at or snapshot.at or utc_now().replace(microsecond=0)
    _plan(site, settings, snapshot, now, default_protocol, horizon_s, as_json)


def _plan(
    site: SiteConfig,
    settings: ControlSettings,
    snapshot: Snapshot,
    now: datetime,
    default_protocol: str,
    horizon_s: float | None,
    as_json: bool,
) -> None:
    if horizon_s is not None:
        settings = horizon_settings(settings, horizon_s)
    run = dry_run(site, settings, snapshot, now, default_protocol)
    if as_json:
        click.echo(json.dumps(document(run), indent=2))
    else:
        print_dry_run(Console(), run)


COMMANDS: tuple[click.Command, ...] = (plan_command,)
