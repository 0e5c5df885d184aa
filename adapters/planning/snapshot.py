"""The snapshot file: the live state of a site as JSON, for `ems plan --state`.

Every key except those marked required may be left out. Times are ISO 8601 with an offset
(`2025-03-03T09:00:00Z`); currents in A, power in W, energy in Wh.

    {
      "at": "2025-03-03T09:00:00Z",          // the moment planned for (default: now)
      "meter": {                             // the site meter's last reading
        "current_a": [30.0, 28.5, 31.2],     // required: per SITE phase L1, L2, L3;
                                             //   null for a phase that could not be read
        "at": "2025-03-03T08:59:58Z",        // default: "at" above
        "valid": true,                       // false: the read failed (see "reason")
        "reason": "timeout"
      },
      "chargers": {                          // keyed by the charger ids of the config
        "CP-001": {
          "protocol": "ocpp1.6",             // or "ocpp2.0.1"; default: --protocol
          "online": true,                    // false: connected no more
          "capabilities": {                  // what the charger said it supports
            "rate_units": ["A", "W"],        //   ChargingScheduleAllowedChargingRateUnit
            "max_periods": 24,               //   ChargingScheduleMaxPeriods
            "max_stack_level": 8,            //   ChargeProfileMaxStackLevel
            "smart_charging": true
          },
          "connectors": {                    // keyed by connector id (2.0.1: EVSE id)
            "1": {
              "status": "Charging",          // OCPP status (1.6 or 2.0.1 names)
              "current_a": [15.8, 15.9, 15.7],   // measured, in the CHARGER's phase order
              "power_w": 10900,
              "energy_wh": 123456,           // the connector's energy register
              "sampled_at": "2025-03-03T08:59:50Z",  // default: "at" above
              "session": {
                "transaction_id": 17,        // required; an integer for OCPP 1.6
                "started": "2025-03-03T07:45:00Z",
                "energy_need_wh": 20000,     // what the EV still needs from now
                "departure": "2025-03-03T17:00:00Z",
                "ev_max_current_a": 16,
                "ev_min_current_a": 6
              }
            }
          }
        }
      }
    }

Every problem is an `InputFileError` naming the file, the line and the JSON path of the
field (`chargers.CP-001.connectors.1.session.departure`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.files.errors import InputFileError
from adapters.ocpp.profiles import OCPP16, PROTOCOLS
from adapters.planning.json_positions import JsonPath, line_of
from ems.events import ConnectorStatus, PhaseValues
from ems.site import SiteConfig

RATE_UNITS = ("A", "W")


@dataclass(frozen=True)
class MeterSnapshot:
    """The site meter's last reading, per site phase; None where a phase was unreadable."""

    current_a: PhaseValues
    at: datetime | None = None
    valid: bool = True
    reason: str | None = None


@dataclass(frozen=True)
class CapabilitiesSnapshot:
    rate_units: tuple[str, ...] = RATE_UNITS
    max_periods: int | None = None
    max_stack_level: int | None = None
    smart_charging: bool = True


@dataclass(frozen=True)
class SessionSnapshot:
    transaction_id: str
    started: datetime | None = None
    energy_need_wh: float | None = None
    departure: datetime | None = None
    ev_max_current_a: float | None = None
    ev_min_current_a: float | None = None


@dataclass(frozen=True)
class ConnectorSnapshot:
    """One connector; `current_a` in the charger's own phase order, as it measures it."""

    connector_id: int
    status: ConnectorStatus | None = None
    current_a: PhaseValues | None = None
    power_w: float | None = None
    energy_wh: float | None = None
    sampled_at: datetime | None = None
    session: SessionSnapshot | None = None

    @property
    def sampled(self) -> bool:
        return self.current_a is not None or self.power_w is not None or self.energy_wh is not None


@dataclass(frozen=True)
class ChargerSnapshot:
    charger_id: str
    protocol: str | None = None
    online: bool = True
    capabilities: CapabilitiesSnapshot | None = None
    connectors: tuple[ConnectorSnapshot, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """The state to plan from; the empty snapshot is the config alone (no EVs)."""

    at: datetime | None = None
    meter: MeterSnapshot | None = None
    chargers: tuple[ChargerSnapshot, ...] = ()

    def charger(self, charger_id: str) -> ChargerSnapshot | None:
        return next((c for c in self.chargers if c.charger_id == charger_id), None)


def load_snapshot(path: Path | str, site: SiteConfig, default_protocol: str) -> Snapshot:
    """Read and validate a snapshot file against the site; problems are `InputFileError`s."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputFileError(path, f"cannot read: {error.strerror or error}") from error
    return parse_snapshot(text, path, site, default_protocol)


def parse_snapshot(
    text: str, path: Path | str, site: SiteConfig, default_protocol: str
) -> Snapshot:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputFileError(path, f"not valid JSON: {error.msg}", error.lineno) from error
    return _SnapshotReader(_Located(path, text), site, default_protocol).snapshot(data)


class _Located:
    """Typed access to parsed JSON whose errors carry the file, the line and the path."""

    def __init__(self, path: Path | str, text: str) -> None:
        self.path = path
        self.text = text

    def error(self, at: JsonPath, message: str) -> InputFileError:
        field = ".".join(str(part) for part in at) or "(document)"
        return InputFileError(self.path, message, line_of(self.text, at), field)

    def table(self, value: object, at: JsonPath, keys: tuple[str, ...] | None) -> dict[str, Any]:
        """An object; with `keys`, one holding no other keys."""
        if not isinstance(value, dict):
            raise self.error(at, f"must be an object (got {_kind(value)})")
        if keys is not None:
            for key in value:
                if key not in keys:
                    raise self.error((*at, key), f"unknown key (known: {', '.join(keys)})")
        return value

    def number(
        self, table: Mapping[str, Any], key: str, at: JsonPath, *, minimum: float = 0.0
    ) -> float | None:
        value = table.get(key)
        if value is None:
            return None
        return self.number_value(value, (*at, key), minimum=minimum)

    def number_value(self, value: object, at: JsonPath, *, minimum: float = 0.0) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(at, f"must be a number (got {_kind(value)})")
        number = float(value)
        if not math.isfinite(number) or number < minimum:
            raise self.error(at, f"must be a number >= {minimum:g} (got {value})")
        return number

    def integer(self, table: Mapping[str, Any], key: str, at: JsonPath) -> int | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.error((*at, key), f"must be an integer >= 1 (got {value!r})")
        return value

    def flag(self, table: Mapping[str, Any], key: str, at: JsonPath, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.error((*at, key), f"must be true or false (got {value!r})")
        return value

    def text_value(self, table: Mapping[str, Any], key: str, at: JsonPath) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self.error((*at, key), f"must be a non-empty string (got {value!r})")
        return value

    def moment(self, table: Mapping[str, Any], key: str, at: JsonPath) -> datetime | None:
        value = self.text_value(table, key, at)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as error:
            raise self.error((*at, key), f"not an ISO 8601 time: {value!r}") from error
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise self.error((*at, key), f"needs a UTC offset such as Z: {value!r}")
        return moment

    def phases(
        self, table: Mapping[str, Any], key: str, at: JsonPath, *, required: bool
    ) -> PhaseValues | None:
        """Three per-phase values; null marks a phase that could not be read."""
        value = table.get(key)
        where = (*at, key)
        if value is None:
            if required:
                raise self.error(where, "is required: [L1, L2, L3] in A")
            return None
        if not isinstance(value, list) or len(value) != 3:
            raise self.error(where, f"must be a list of 3 numbers [L1, L2, L3] (got {value!r})")
        a, b, c = (
            None if v is None else self.number_value(v, (*where, i)) for i, v in enumerate(value)
        )
        return (a, b, c)


class _SnapshotReader:
    def __init__(self, located: _Located, site: SiteConfig, default_protocol: str) -> None:
        self._in = located
        self._site = site
        self._default_protocol = default_protocol

    def snapshot(self, data: object) -> Snapshot:
        table = self._in.table(data, (), ("at", "meter", "chargers"))
        meter = table.get("meter")
        chargers = self._in.table(table.get("chargers", {}), ("chargers",), None)
        return Snapshot(
            at=self._in.moment(table, "at", ()),
            meter=None if meter is None else self._meter(meter),
            chargers=tuple(self._charger(cid, value) for cid, value in chargers.items()),
        )

    def _meter(self, value: object) -> MeterSnapshot:
        at: JsonPath = ("meter",)
        table = self._in.table(value, at, ("current_a", "at", "valid", "reason"))
        current = self._in.phases(table, "current_a", at, required=True)
        assert current is not None
        return MeterSnapshot(
            current_a=current,
            at=self._in.moment(table, "at", at),
            valid=self._in.flag(table, "valid", at, True),
            reason=self._in.text_value(table, "reason", at),
        )

    def _charger(self, charger_id: str, value: object) -> ChargerSnapshot:
        at: JsonPath = ("chargers", charger_id)
        config = next((c for c in self._site.chargers if c.id == charger_id), None)
        if config is None:
            known = ", ".join(c.id for c in self._site.chargers)
            raise self._in.error(at, f"no such charger in the config (known: {known})")
        keys = ("protocol", "online", "capabilities", "connectors")
        table = self._in.table(value, at, keys)
        protocol = self._in.text_value(table, "protocol", at)
        if protocol is not None and protocol not in PROTOCOLS:
            raise self._in.error((*at, "protocol"), f"must be one of {', '.join(PROTOCOLS)}")
        capabilities = table.get("capabilities")
        connectors = self._in.table(table.get("connectors", {}), (*at, "connectors"), None)
        known_ids = {c.connector_id for c in config.connectors}
        effective = protocol or self._default_protocol
        return ChargerSnapshot(
            charger_id=charger_id,
            protocol=protocol,
            online=self._in.flag(table, "online", at, True),
            capabilities=None if capabilities is None else self._capabilities(capabilities, at),
            connectors=tuple(
                self._connector(key, v, (*at, "connectors", key), known_ids, effective)
                for key, v in connectors.items()
            ),
        )

    def _capabilities(self, value: object, charger_at: JsonPath) -> CapabilitiesSnapshot:
        at = (*charger_at, "capabilities")
        keys = ("rate_units", "max_periods", "max_stack_level", "smart_charging")
        table = self._in.table(value, at, keys)
        units = table.get("rate_units", list(RATE_UNITS))
        if not isinstance(units, list) or not units or any(u not in RATE_UNITS for u in units):
            raise self._in.error(
                (*at, "rate_units"), f'must be a list of "A" and/or "W" ({units!r})'
            )
        stack = table.get("max_stack_level")
        if stack is not None and (
            isinstance(stack, bool) or not isinstance(stack, int) or stack < 0
        ):
            raise self._in.error((*at, "max_stack_level"), f"must be an integer >= 0 ({stack!r})")
        return CapabilitiesSnapshot(
            rate_units=tuple(units),
            max_periods=self._in.integer(table, "max_periods", at),
            max_stack_level=stack,
            smart_charging=self._in.flag(table, "smart_charging", at, True),
        )

    def _connector(
        self, key: str, value: object, at: JsonPath, known_ids: set[int], protocol: str
    ) -> ConnectorSnapshot:
        if not key.isdigit() or int(key) not in known_ids:
            known = ", ".join(str(i) for i in sorted(known_ids))
            raise self._in.error(at, f"no such connector on this charger (known: {known})")
        keys = ("status", "current_a", "power_w", "energy_wh", "sampled_at", "session")
        table = self._in.table(value, at, keys)
        session = table.get("session")
        return ConnectorSnapshot(
            connector_id=int(key),
            status=self._status(table, at),
            current_a=self._in.phases(table, "current_a", at, required=False),
            power_w=self._in.number(table, "power_w", at),
            energy_wh=self._in.number(table, "energy_wh", at),
            sampled_at=self._in.moment(table, "sampled_at", at),
            session=None if session is None else self._session(session, (*at, "session"), protocol),
        )

    def _status(self, table: Mapping[str, Any], at: JsonPath) -> ConnectorStatus | None:
        value = self._in.text_value(table, "status", at)
        if value is None:
            return None
        try:
            return ConnectorStatus(value)
        except ValueError as error:
            names = ", ".join(s.value for s in ConnectorStatus)
            raise self._in.error((*at, "status"), f"unknown status {value!r} ({names})") from error

    def _session(self, value: object, at: JsonPath, protocol: str) -> SessionSnapshot:
        keys = (
            "transaction_id",
            "started",
            "energy_need_wh",
            "departure",
            "ev_max_current_a",
            "ev_min_current_a",
        )
        table = self._in.table(value, at, keys)
        return SessionSnapshot(
            transaction_id=self._transaction_id(table, at, protocol),
            started=self._in.moment(table, "started", at),
            energy_need_wh=self._in.number(table, "energy_need_wh", at),
            departure=self._in.moment(table, "departure", at),
            ev_max_current_a=self._in.number(table, "ev_max_current_a", at),
            ev_min_current_a=self._in.number(table, "ev_min_current_a", at),
        )

    def _transaction_id(self, table: Mapping[str, Any], at: JsonPath, protocol: str) -> str:
        value = table.get("transaction_id")
        where = (*at, "transaction_id")
        if value is None:
            raise self._in.error(where, "is required")
        if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
            raise self._in.error(where, f"must be a string or an integer (got {value!r})")
        text = str(value)
        if protocol == OCPP16 and not text.lstrip("-").isdigit():
            raise self._in.error(where, f"must be an integer for an OCPP 1.6 charger ({value!r})")
        return text


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r}"
    return repr(value)
