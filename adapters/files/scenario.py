"""Scenario folders: reading them into `ems.replay.Scenario` and writing them back.

A folder holds `site.toml` (the site part of the live config, optionally `[control]`),
`sessions.csv`, and optionally `baseload.csv`, `limits.csv` and `prices.csv`. The format is
documented in `scenarios/README.md`. A grid operator's cap schedule the site names
(`[site] grid_caps_file`, `adapters.files.grid_caps`) is folded into the limits. Every
problem is an `InputFileError` naming the file, the line and the column.
"""

from __future__ import annotations

import csv
import difflib
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from adapters.clock import iso_utc
from adapters.files.config import controller_part, parse_toml
from adapters.files.csv_rows import csv_rows, timed_rows
from adapters.files.errors import InputFileError, read_text
from adapters.files.grid_caps import with_grid_caps
from adapters.files.site_config import SITE_SECTIONS, FieldReader
from adapters.files.tariff_config import tariff_toml
from ems.replay.scenario import (
    BaseLoadPoint,
    LimitPoint,
    PricePoint,
    PvPoint,
    Scenario,
    SessionSpec,
)
from ems.site import ChargingMode, ControlSettings, SiteConfig
from optimizer.problem import SiteLimits

SITE_FILE = "site.toml"
SESSIONS_FILE = "sessions.csv"
BASELOAD_FILE = "baseload.csv"
LIMITS_FILE = "limits.csv"
PRICES_FILE = "prices.csv"
PV_FILE = "pv.csv"

_SESSION_REQUIRED = (
    "session_id",
    "connector_id",
    "arrival",
    "departure",
    "energy_kwh",
    "max_power_kw",
    "phases",
)
_SESSION_OPTIONAL = ("priority", "battery_kwh")
_PHASE_COLUMNS = ("l1_a", "l2_a", "l3_a")

T = TypeVar("T")
_NEVER = datetime.min.replace(tzinfo=UTC)
"""The end of a scenario without sessions: no cap of the grid operator's matters in it."""


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario folder; `control` is its `[control]` table or the defaults."""

    path: Path
    scenario: Scenario
    control: ControlSettings


def load_scenario(folder: Path | str) -> LoadedScenario:
    """Read and validate a scenario folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(folder, "is not a scenario folder")
    site_path = folder / SITE_FILE
    if not site_path.is_file():
        raise InputFileError(site_path, "missing: a scenario needs the site description")
    text = read_text(site_path)
    data = parse_toml(text, site_path)
    FieldReader(site_path, text).check_keys(data, (*SITE_SECTIONS, "control", "tariff"), "")
    loaded = controller_part(data, site_path, text)
    site, control = loaded.site, loaded.control

    sessions_path = folder / SESSIONS_FILE
    if not sessions_path.is_file():
        raise InputFileError(sessions_path, "missing: a scenario needs its sessions")
    sessions = _load_sessions(sessions_path, site)
    scenario = Scenario(
        name=folder.resolve().name,
        site=site,
        sessions=sessions,
        base_load=_optional(
            folder / BASELOAD_FILE, lambda p: _load_base_load(p, site.limits.voltage_v)
        ),
        limits=with_grid_caps(
            _optional(folder / LIMITS_FILE, lambda p: _load_limits(p, site.limits)),
            site.grid_caps,
            site.limits,
            max((s.departure for s in sessions), default=_NEVER),
        ),
        prices=_optional(folder / PRICES_FILE, _load_prices),
        pv=_optional(folder / PV_FILE, _load_pv),
    )
    return LoadedScenario(folder, scenario, control)


def _optional(path: Path, load: Callable[[Path], tuple[T, ...]]) -> tuple[T, ...]:
    return load(path) if path.is_file() else ()


def _load_sessions(path: Path, site: SiteConfig) -> tuple[SessionSpec, ...]:
    connectors = {c.key: c for c in site.connectors()}
    sessions: list[SessionSpec] = []
    lines: dict[str, int] = {}
    by_connector: dict[str, list[tuple[SessionSpec, int]]] = {}
    for row in csv_rows(path, _SESSION_REQUIRED, _SESSION_OPTIONAL):
        session_id = row.text("session_id")
        if session_id in lines:
            raise row.error(
                "session_id",
                f"duplicate session '{session_id}' (first on line {lines[session_id]})",
            )
        connector = row.text("connector_id")
        if connector not in connectors:
            close = difflib.get_close_matches(connector, list(connectors), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise row.error(
                "connector_id",
                f"unknown connector '{connector}' (expected <charger id>/<connector id> "
                f"from {SITE_FILE}){hint}",
            )
        arrival = row.moment("arrival")
        departure = row.moment("departure")
        if departure <= arrival:
            raise row.error("departure", f"departure {departure} is not after arrival {arrival}")
        energy_kwh = row.number("energy_kwh")
        phases = row.integer("phases")
        if phases not in (1, 2, 3):
            raise row.error("phases", f"must be 1, 2 or 3 (got {phases})")
        battery_kwh = row.number("battery_kwh", positive=True) if row.has("battery_kwh") else None
        session = SessionSpec(
            session_id=session_id,
            connector=connector,
            arrival=arrival,
            departure=departure,
            energy_wh=energy_kwh * 1000.0,
            max_power_w=row.number("max_power_kw", positive=True) * 1000.0,
            phases=phases,
            priority=row.number("priority", positive=True) if row.has("priority") else 1.0,
            battery_wh=None if battery_kwh is None else battery_kwh * 1000.0,
        )
        lines[session_id] = row.line
        by_connector.setdefault(connector, []).append((session, row.line))
        sessions.append(session)
    for visits in by_connector.values():
        visits.sort(key=lambda v: v[0].arrival)
        for (first, first_line), (second, second_line) in itertools.pairwise(visits):
            if second.arrival < first.departure:
                raise InputFileError(
                    path,
                    f"session '{second.session_id}' arrives at {second.arrival} on "
                    f"{second.connector} before session '{first.session_id}' (line "
                    f"{first_line}) leaves at {first.departure}",
                    second_line,
                    column="arrival",
                )
    return tuple(sessions)


def _load_base_load(path: Path, voltage_v: float) -> tuple[BaseLoadPoint, ...]:
    """Per-phase amperes, or a total in kW spread evenly over three phases; negative
    while a PV behind the site meter exports (base load net of PV)."""
    points: list[BaseLoadPoint] = []
    for at, row in timed_rows(path, ("timestamp",), (*_PHASE_COLUMNS, "total_kw")):
        if all(c in row.cells for c in _PHASE_COLUMNS):
            l1, l2, l3 = (row.number(c, minimum=-math.inf) for c in _PHASE_COLUMNS)
            points.append(BaseLoadPoint(at, (l1, l2, l3)))
        elif "total_kw" in row.cells:
            per_phase_a = row.number("total_kw", minimum=-math.inf) * 1000.0 / (3 * voltage_v)
            points.append(BaseLoadPoint(at, (per_phase_a, per_phase_a, per_phase_a)))
        else:
            raise InputFileError(
                path, "missing columns: give l1_a, l2_a, l3_a or total_kw", 1, column="l1_a"
            )
    return tuple(points)


def _load_limits(path: Path, configured: SiteLimits) -> tuple[LimitPoint, ...]:
    """The time-varying limit; never above the site's configured one (its main fuse)."""
    points: list[LimitPoint] = []
    for at, row in timed_rows(path, ("timestamp", "limit_a"), ("power_limit_kw",)):
        limit_a = row.number("limit_a", positive=True)
        if limit_a > configured.phase_limit_a:
            raise row.error(
                "limit_a",
                f"{limit_a:g} A is above the site's limit_a = "
                f"{configured.phase_limit_a:g} in {SITE_FILE} (the main fuse)",
            )
        power_w = None
        if row.has("power_limit_kw"):
            power_w = row.number("power_limit_kw", positive=True) * 1000.0
            cap_w = configured.power_limit_w
            if cap_w is not None and power_w > cap_w:
                raise row.error(
                    "power_limit_kw",
                    f"{power_w / 1000.0:g} kW is above the site's power_limit_kw = "
                    f"{cap_w / 1000.0:g} in {SITE_FILE}",
                )
        points.append(LimitPoint(at, limit_a, power_w))
    return tuple(points)


def _load_prices(path: Path) -> tuple[PricePoint, ...]:
    points: list[PricePoint] = []
    for at, row in timed_rows(path, ("timestamp", "price_per_kwh")):
        points.append(PricePoint(at, row.number("price_per_kwh", minimum=-math.inf)))
    return tuple(points)


def _load_pv(path: Path) -> tuple[PvPoint, ...]:
    points: list[PvPoint] = []
    for at, row in timed_rows(path, ("timestamp", "pv_kw")):
        points.append(PvPoint(at, row.number("pv_kw") * 1000.0))
    return tuple(points)


def write_scenario(scenario: Scenario, folder: Path | str) -> None:
    """Write a scenario as a folder that `load_scenario` reads back unchanged."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SITE_FILE).write_text(site_toml(scenario.site), encoding="utf-8")
    with_battery = any(s.battery_wh is not None for s in scenario.sessions)
    _write_csv(
        folder / SESSIONS_FILE,
        (*_SESSION_REQUIRED, "priority", *(["battery_kwh"] if with_battery else [])),
        (
            (
                s.session_id,
                s.connector,
                iso_utc(s.arrival),
                iso_utc(s.departure),
                _num(s.energy_wh / 1000.0),
                _num(s.max_power_w / 1000.0),
                str(s.phases),
                _num(s.priority),
                *([_battery_kwh(s.battery_wh)] if with_battery else []),
            )
            for s in scenario.sessions
        ),
    )
    if scenario.base_load:
        _write_csv(
            folder / BASELOAD_FILE,
            ("timestamp", *_PHASE_COLUMNS),
            ((iso_utc(p.at), *(_num(a) for a in p.current_a)) for p in scenario.base_load),
        )
    if scenario.limits:
        _write_csv(
            folder / LIMITS_FILE,
            ("timestamp", "limit_a", "power_limit_kw"),
            (
                (
                    iso_utc(p.at),
                    _num(p.phase_limit_a),
                    "" if p.power_limit_w is None else _num(p.power_limit_w / 1000.0),
                )
                for p in scenario.limits
            ),
        )
    if scenario.prices:
        _write_csv(
            folder / PRICES_FILE,
            ("timestamp", "price_per_kwh"),
            ((iso_utc(p.at), _num(p.price_per_kwh)) for p in scenario.prices),
        )
    if scenario.pv:
        _write_csv(
            folder / PV_FILE,
            ("timestamp", "pv_kw"),
            ((iso_utc(p.at), _num(p.power_w / 1000.0)) for p in scenario.pv),
        )


def site_toml(site: SiteConfig) -> str:
    """The site in the schema `parse_site` reads."""
    limits = site.limits
    lines = ["[site]", f'name = "{site.name}"', f"limit_a = {_num(limits.phase_limit_a)}"]
    if limits.power_limit_w is not None:
        lines.append(f"power_limit_kw = {_num(limits.power_limit_w / 1000.0)}")
    lines.append(f"voltage_v = {_num(limits.voltage_v)}")
    lines.append(f"worst_base_load_a = [{', '.join(_num(a) for a in site.worst_base_load_a)}]")
    if any(site.pv_peak_a):
        lines.append(f"pv_peak_a = [{', '.join(_num(a) for a in site.pv_peak_a)}]")
    for circuit in site.circuits:
        lines += ["", "[[circuits]]", f'id = "{circuit.id}"', f"limit_a = {_num(circuit.limit_a)}"]
        if circuit.parent is not None:
            lines.append(f'parent = "{circuit.parent}"')
    for charger in site.chargers:
        lines += ["", "[[chargers]]", f'id = "{charger.id}"']
        if not charger.behind_meter:
            lines.append("behind_meter = false")
        if charger.fallback_a is not None:
            lines.append(f"fallback_a = {_num(charger.fallback_a)}")
        if charger.mode is not ChargingMode.PLANNED:
            lines.append(f'mode = "{charger.mode.value}"')
        for c in charger.connectors:
            lines += [
                "[[chargers.connectors]]",
                f"connector_id = {c.connector_id}",
                f'phases = "{"".join(p.name for p in c.phases)}"',
                f"max_current_a = {_num(c.max_current_a)}",
                f"min_current_a = {_num(c.min_current_a)}",
            ]
            if c.circuit is not None:
                lines.append(f'circuit = "{c.circuit}"')
            if c.priority != 1.0:
                lines.append(f"priority = {_num(c.priority)}")
    return "\n".join(lines + tariff_toml(site.tariff)) + "\n"


def _battery_kwh(battery_wh: float | None) -> str:
    return "" if battery_wh is None else _num(battery_wh / 1000.0)


def _write_csv(path: Path, header: Sequence[str], rows: Iterator[Sequence[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _num(value: float) -> str:
    """A number as TOML/CSV text: integers without a trailing .0, floats rounded."""
    rounded = round(value, 4)
    return str(int(rounded)) if rounded == int(rounded) else repr(rounded)
