"""Meter settings from the site file's `[[meters]]` array.

[[meters]]
id = "grid"              # unique; names the meter in logs and readings
map = "sdm630"           # a shipped map, a path to a map file, or "virtual"
host = "192.168.1.50"
port = 502
unit_id = 1              # 1-247; 0 or 255 for devices that answer "this device"
circuit = "garage"       # omit for the site (grid) meter
role = "grid"            # or "pv": a PV inverter or meter, for production (no circuit)
interval_s = 1.0
timeout_s = 0.5          # per request; no retries
sign = "import_positive" # or "export_positive" for a meter counting the other way
stale_after_s = 5.0      # a reading older than this is stale (health)
frozen_after_s = 8.0     # every value byte-identical this long = frozen (> interval_s)
max_current_a = 2000.0   # larger currents are implausible
nominal_voltage_v = 230  # phase-to-neutral; a phase voltage off by more than 20 % is implausible
reconnect_min_s = 1.0    # backoff after a failed connection, doubling...
reconnect_max_s = 10.0   # ...up to this

Every number has a range (`METER_BOUNDS`, with the reason in the error message).

[[meters]]               # a site without a meter: a fixed or scheduled base load
id = "base"
map = "virtual"
current_a = [12.0, 10.0, 14.0]   # or schedule = "base-load.csv" (a load profile)
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from adapters.files.config import Bound, bound_problem
from adapters.files.errors import InputFileError, toml_line_of
from adapters.modbus.profile import Phases
from adapters.modbus.register_map import (
    MAPS_DIR,
    Measures,
    UnknownMapError,
    load_map,
    map_path,
)

VIRTUAL = "virtual"


class Role(StrEnum):
    GRID = "grid"
    """The site (grid) meter, or a circuit's meter: what the controller keeps limits by."""
    PV = "pv"
    """A PV inverter or meter: its total power is the production, positive while producing
    (a meter counting it negative takes `sign = "export_positive"`). Only shown: the site
    meter's net reading already includes the PV."""


class Sign(StrEnum):
    IMPORT_POSITIVE = "import_positive"
    """The meter counts power drawn from the grid as positive (the product's convention)."""
    EXPORT_POSITIVE = "export_positive"
    """The meter counts the other way: powers and currents are negated."""


@dataclass(frozen=True)
class MeterSettings:
    id: str
    map: str
    """A shipped map name, an absolute path to a map file, or `virtual`."""
    host: str | None = None
    port: int = 502
    unit_id: int = 1
    interval_s: float = 1.0
    timeout_s: float = 0.5
    circuit: str | None = None
    """None for the site (grid) meter."""
    sign: Sign = Sign.IMPORT_POSITIVE
    stale_after_s: float = 5.0
    frozen_after_s: float = 8.0
    """Every value read unchanged this long means a frozen meter (a gateway serving a dead
    meter's last answer). Under the 10 s control period, so the controller turns
    conservative within one period; real meters move some value on every read."""
    max_current_a: float = 2000.0
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 10.0
    current_a: Phases | None = None
    """Virtual meter: a fixed base load per phase."""
    schedule: Path | None = None
    """Virtual meter: a load-profile CSV of the base load."""
    nominal_voltage_v: float = 230.0
    """Phase-to-neutral supply voltage; phase voltages far from it are implausible."""
    role: Role = Role.GRID

    @property
    def is_pv(self) -> bool:
        return self.role is Role.PV

    @property
    def is_virtual(self) -> bool:
        return self.map == VIRTUAL


_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_POSITIVE = (
    "interval_s",
    "timeout_s",
    "stale_after_s",
    "frozen_after_s",
    "max_current_a",
    "reconnect_min_s",
    "reconnect_max_s",
    "nominal_voltage_v",
)
_KEYS = {"id", "map", "host", "port", "unit_id", "circuit", "sign", "current_a", "schedule", "role"}
_KEYS |= set(_POSITIVE)
METER_BOUNDS: dict[str, Bound] = {
    "interval_s": Bound(
        0.1,
        60,
        "one read per interval; faster loads the gateway for nothing,"
        " slower leaves every control step a stale reading",
    ),
    "timeout_s": Bound(
        0.05,
        10,
        "a request unanswered this long is a dead meter; waiting longer blocks the reader",
    ),
    "stale_after_s": Bound(
        0.5,
        300,
        "a reading this old still counts as fresh; beyond 5 minutes it hides the present load",
    ),
    "frozen_after_s": Bound(
        0,
        60,
        "a meter serving identical values is trusted this long;"
        " beyond a minute a dead meter hides a rising load",
        above_low=True,
    ),
    "max_current_a": Bound(
        1,
        10000,
        "a larger current is implausible; no low-voltage site meter measures 10 kA",
    ),
    "reconnect_min_s": Bound(
        0.01, 60, "backoff after a failed connection; beyond a minute a meter back stays unread"
    ),
    "reconnect_max_s": Bound(
        0.01,
        300,
        "longest backoff between connection attempts; beyond 5 minutes a meter back stays unread",
    ),
    "nominal_voltage_v": Bound(
        100,
        400,
        "phase-to-neutral; 100 V (Japan) to 400 V covers every low-voltage grid",
    ),
}
"""Range of every number of a `[[meters]]` entry, with why (shown in the error)."""


def parse_meters_section(
    data: list[dict[str, Any]], path: Path | str, text: str
) -> tuple[MeterSettings, ...]:
    """Validate the `[[meters]]` array of a site file. Raises InputFileError naming
    the file, line and field (`meters[1].unit_id`)."""
    if not isinstance(data, list):
        raise InputFileError(path, "must be an array of tables [[meters]]", field="meters")
    meters = tuple(_MeterParser(path, text, index).parse(entry) for index, entry in enumerate(data))
    _check_unique(meters, path, text)
    return meters


class _MeterParser:
    def __init__(self, path: Path | str, text: str, index: int) -> None:
        self.path = path
        self.text = text
        self.index = index

    def error(self, key: str, message: str) -> InputFileError:
        field = f"meters[{self.index}].{key}"
        return InputFileError(self.path, message, line=toml_line_of(self.text, field), field=field)

    def parse(self, entry: Any) -> MeterSettings:
        if not isinstance(entry, dict):
            raise self.error("id", "each meter must be a table")
        for key in entry:
            if key not in _KEYS:
                raise self.error(key, f"unknown key; known: {', '.join(sorted(_KEYS))}")
        meter_id = self.text_value(entry, "id")
        map_name = self.text_value(entry, "map")
        fields: dict[str, Any] = {"id": meter_id, "map": map_name}
        for key in _POSITIVE:
            if key in entry:
                fields[key] = self.bounded(entry, key)
        if "circuit" in entry:
            fields["circuit"] = self.text_value(entry, "circuit")
        if "sign" in entry:
            try:
                fields["sign"] = Sign(entry["sign"])
            except ValueError:
                options = ", ".join(s.value for s in Sign)
                raise self.error(
                    "sign", f"must be one of {options} (got {entry['sign']!r})"
                ) from None
        if "role" in entry:
            fields["role"] = self.role(entry)
        if map_name == VIRTUAL:
            fields.update(self.virtual(entry))
        else:
            fields.update(self.modbus(entry, map_name))
        settings = MeterSettings(**fields)
        if settings.timeout_s > settings.interval_s:
            raise self.error(
                "timeout_s",
                f"must not exceed interval_s = {settings.interval_s:g} s"
                f" (got {settings.timeout_s:g} s): one request per interval",
            )
        if settings.frozen_after_s <= settings.interval_s:
            raise self._frozen_error(settings, "frozen_after_s" in entry)
        if settings.reconnect_max_s < settings.reconnect_min_s:
            raise self.error("reconnect_max_s", "must be at least reconnect_min_s")
        return settings

    def _frozen_error(self, settings: MeterSettings, frozen_set: bool) -> InputFileError:
        """frozen_after_s must exceed interval_s: blame the one the file sets (the line
        then points at what to change)."""
        why = "a meter is frozen only when several reads in a row give the same values"
        frozen, interval = f"{settings.frozen_after_s:g} s", f"{settings.interval_s:g} s"
        if frozen_set:
            message = f"must be longer than interval_s = {interval} (got {frozen}): {why}"
            return self.error("frozen_after_s", message)
        message = f"must be shorter than frozen_after_s = {frozen} (got {interval}): {why}"
        return self.error("interval_s", message)

    def modbus(self, entry: dict[str, Any], map_name: str) -> dict[str, Any]:
        for key in ("current_a", "schedule"):
            if key in entry:
                raise self.error(key, 'only for map = "virtual"')
        relative_to = Path(self.path).parent
        try:
            register_map = load_map(map_name, relative_to)
            resolved = map_path(map_name, relative_to)
        except UnknownMapError as error:
            raise self.error("map", str(error)) from None
        if register_map.measures is Measures.PRODUCTION and entry.get("role") != Role.PV.value:
            raise self.error(
                "map", f'{map_name} measures a PV\'s production: give this meter role = "pv"'
            )
        fields: dict[str, Any] = {
            "map": map_name if resolved.parent == MAPS_DIR else str(resolved.resolve())
        }
        if "host" not in entry:
            raise self.error("host", "missing: the meter's (or gateway's) IP address or name")
        host = entry["host"]
        if not isinstance(host, str) or not _valid_host(host):
            raise self.error("host", f"not an IP address or host name: {host!r}")
        fields["host"] = host
        if "port" in entry:
            fields["port"] = self.integer(entry, "port", 1, 65535)
        if "unit_id" in entry:
            unit_id = entry["unit_id"]
            if (
                isinstance(unit_id, bool)
                or not isinstance(unit_id, int)
                or not (1 <= unit_id <= 247 or unit_id in (0, 255))
            ):
                raise self.error(
                    "unit_id",
                    "must be 1-247 (or 0/255 for a device that answers as itself);"
                    f" got {unit_id!r}",
                )
            fields["unit_id"] = unit_id
        return fields

    def virtual(self, entry: dict[str, Any]) -> dict[str, Any]:
        for key in ("host", "port", "unit_id"):
            if key in entry:
                raise self.error(key, "a virtual meter has no connection")
        if ("current_a" in entry) == ("schedule" in entry):
            raise self.error("current_a", "a virtual meter needs current_a or schedule (one)")
        if "schedule" in entry:
            schedule = entry["schedule"]
            if not isinstance(schedule, str) or not schedule:
                raise self.error("schedule", "must be the path of a load-profile CSV")
            resolved = Path(self.path).parent / schedule
            if not resolved.is_file():
                raise self.error("schedule", f"no such file: {resolved}")
            return {"schedule": resolved}
        current = entry["current_a"]
        if (
            not isinstance(current, list)
            or len(current) != 3
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in current
            )
        ):
            raise self.error("current_a", "must be three numbers: [L1, L2, L3] in A")
        return {"current_a": (float(current[0]), float(current[1]), float(current[2]))}

    def text_value(self, entry: dict[str, Any], key: str) -> str:
        if key not in entry:
            raise self.error(key, "missing")
        value = entry[key]
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string (got {value!r})")
        return value

    def positive(self, entry: dict[str, Any], key: str) -> float:
        value = entry[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise self.error(key, f"must be a number > 0 (got {value!r})")
        return float(value)

    def bounded(self, entry: dict[str, Any], key: str) -> float:
        """A positive number within its `METER_BOUNDS` range."""
        number = self.positive(entry, key)
        problem = bound_problem(key, number, METER_BOUNDS[key])
        if problem is not None:
            raise self.error(key, problem)
        return number

    def role(self, entry: dict[str, Any]) -> Role:
        try:
            role = Role(entry["role"])
        except ValueError:
            options = ", ".join(r.value for r in Role)
            raise self.error("role", f"must be one of {options} (got {entry['role']!r})") from None
        if role is Role.PV and "circuit" in entry:
            raise self.error("circuit", "a PV meter measures production, not a circuit: drop it")
        if role is Role.PV and entry.get("map") == VIRTUAL:
            raise self.error("map", "a PV meter is read over Modbus: name its register map")
        return role

    def integer(self, entry: dict[str, Any], key: str, low: int, high: int) -> int:
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(key, f"must be an integer from {low} to {high} (got {value!r})")
        return value


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if all(part.isdigit() for part in host.split(".")):
            return False  # looks like an IPv4 address but is not one (e.g. 192.168.1.300)
        return bool(_HOSTNAME.match(host))
    return True


def _check_unique(meters: tuple[MeterSettings, ...], path: Path | str, text: str) -> None:
    ids: set[str] = set()
    circuits: set[str | None] = set()
    for index, meter in enumerate(meters):
        problem = None
        if meter.id in ids:
            key, problem = "id", f"duplicate id {meter.id!r}"
        elif not meter.is_pv and meter.circuit in circuits:
            where = "the site" if meter.circuit is None else f"circuit {meter.circuit!r}"
            key, problem = "circuit", f"a second meter for {where}"
        if problem is not None:
            field = f"meters[{index}].{key}"
            raise InputFileError(path, problem, line=toml_line_of(text, field), field=field)
        ids.add(meter.id)
        if not meter.is_pv:
            circuits.add(meter.circuit)
