"""Charging sessions from ACN-Data (Caltech's public EV charging dataset) as a scenario.

ACN-Data serves sessions as JSON: a list of session documents, or the API's and the
download page's `{"_meta": ..., "_items": [...]}`. Each document has `sessionID`,
`spaceID`, `connectionTime`, `disconnectTime` (RFC 1123 dates in GMT, e.g.
`Wed, 25 Apr 2018 11:08:04 GMT`), `kWhDelivered` and, for drivers who used the app,
`userInputs` with their `kWhRequested`.

The import follows ACN-Sim's reading of the same data, so a replay here can be set beside
a study made there: each parking space is a connector, the energy a driver wants is what
was delivered (or, with `energy="requested"`, what the driver asked for in the app), and
the EV stays from connection to disconnection. The dataset does not describe the site's
electrical layout, so the importer builds one from `AcnSiteOptions`: one charger per
space, each with one connector whose phases are rotated space by space, so 1-phase EVs
spread over L1, L2 and L3 as an installer would wire them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal

from adapters.files.errors import InputFileError
from ems.replay.scenario import Scenario, SessionSpec
from ems.site import ChargerConfig, ConnectorConfig, SiteConfig
from optimizer.problem import Phase, SiteLimits

EnergySource = Literal["delivered", "requested"]

ROTATIONS: tuple[tuple[Phase, ...], ...] = (
    (Phase.L1, Phase.L2, Phase.L3),
    (Phase.L2, Phase.L3, Phase.L1),
    (Phase.L3, Phase.L1, Phase.L2),
)
"""A connector's phases, space by space: a 1-phase EV draws on the first one."""


@dataclass(frozen=True)
class AcnSiteOptions:
    """The site the dataset does not describe, and how to read its sessions."""

    name: str
    limit_a: float
    voltage_v: float = 230.0
    max_current_a: float = 32.0
    min_current_a: float = 6.0
    ev_phases: int = 1
    energy: EnergySource = "delivered"
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class AcnSession:
    """One session document, read and checked."""

    session_id: str
    space_id: str
    arrival: datetime
    departure: datetime
    delivered_kwh: float
    requested_kwh: float | None


@dataclass(frozen=True)
class SkippedSession:
    """A session left out of the scenario, and why."""

    session_id: str
    reason: str


@dataclass(frozen=True)
class AcnImport:
    scenario: Scenario
    skipped: tuple[SkippedSession, ...]


def read_acn_sessions(path: Path) -> list[AcnSession]:
    """Read an ACN-Data JSON file; a bad document is an `InputFileError` naming its field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputFileError(path, f"cannot read: {error.strerror or error}") from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputFileError(path, f"not JSON: {error.msg}", error.lineno) from None
    items, prefix = _items(document, path)
    return [_session(item, path, f"{prefix}[{index}]") for index, item in enumerate(items)]


def acn_scenario(sessions: Sequence[AcnSession], options: AcnSiteOptions) -> AcnImport:
    """The scenario ACN-Sim would simulate from these sessions, on the site of `options`.

    Every space in the file is a connector, whichever sessions are kept, so windows of one
    file replay on one site. Sessions outside `options.start`/`end` (by arrival) are left
    out silently; those that cannot be replayed (no time plugged in, no requested energy
    when asked for it, or overlapping an earlier session on the same space) are listed as
    skipped.
    """
    spaces = sorted({s.space_id for s in sessions})
    chosen = [s for s in sessions if _within(s.arrival, options)]
    skipped: list[SkippedSession] = []
    by_space: dict[str, list[AcnSession]] = {space: [] for space in spaces}
    for session in sorted(chosen, key=lambda s: (s.arrival, s.session_id)):
        reason = _unusable(session, options, by_space[session.space_id])
        if reason is None:
            by_space[session.space_id].append(session)
        else:
            skipped.append(SkippedSession(session.session_id, reason))
    connectors = {
        space: ConnectorConfig(
            charger_id=space,
            connector_id=1,
            phases=ROTATIONS[index % len(ROTATIONS)],
            max_current_a=options.max_current_a,
            min_current_a=options.min_current_a,
        )
        for index, space in enumerate(spaces)
    }
    max_power_w = options.max_current_a * options.voltage_v * options.ev_phases
    specs = sorted(
        (
            SessionSpec(
                session_id=s.session_id,
                connector=connectors[s.space_id].key,
                arrival=s.arrival,
                departure=s.departure,
                energy_wh=_energy_kwh(s, options.energy) * 1000.0,
                max_power_w=max_power_w,
                phases=options.ev_phases,
            )
            for space in spaces
            for s in by_space[space]
        ),
        key=lambda spec: (spec.arrival, spec.session_id),
    )
    site = SiteConfig(
        name=options.name,
        limits=SiteLimits(phase_limit_a=options.limit_a, voltage_v=options.voltage_v),
        chargers=tuple(
            ChargerConfig(id=space, connectors=(connectors[space],)) for space in spaces
        ),
    )
    return AcnImport(Scenario(options.name, site, tuple(specs)), tuple(skipped))


def _items(document: Any, path: Path) -> tuple[list[Any], str]:
    if isinstance(document, list):
        return document, ""
    if isinstance(document, dict) and isinstance(document.get("_items"), list):
        return document["_items"], "_items"
    raise InputFileError(
        path, 'expected a list of sessions or an object with an "_items" list of sessions'
    )


def _session(item: Any, path: Path, where: str) -> AcnSession:
    if not isinstance(item, Mapping):
        raise InputFileError(path, "expected a session object", field=where)
    session_id = _text(item, "sessionID", path, where)
    arrival = _date(item, "connectionTime", path, where)
    departure = _date(item, "disconnectTime", path, where)
    return AcnSession(
        session_id=session_id,
        space_id=_text(item, "spaceID", path, where),
        arrival=arrival,
        departure=departure,
        delivered_kwh=_energy(item, "kWhDelivered", path, where),
        requested_kwh=_requested(item, path, where),
    )


def _field(item: Mapping[str, Any], key: str, path: Path, where: str) -> Any:
    if item.get(key) is None:
        raise InputFileError(path, "missing", field=f"{where}.{key}")
    return item[key]


def _text(item: Mapping[str, Any], key: str, path: Path, where: str) -> str:
    value = _field(item, key, path, where)
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise InputFileError(path, f"expected a name, got {value!r}", field=f"{where}.{key}")
    return str(value).strip()


def _date(item: Mapping[str, Any], key: str, path: Path, where: str) -> datetime:
    raw = _field(item, key, path, where)
    try:
        value = parsedate_to_datetime(raw) if isinstance(raw, str) else None
    except (TypeError, ValueError):
        value = None
    if value is None or value.tzinfo is None:
        raise InputFileError(
            path,
            f"expected a date like 'Wed, 25 Apr 2018 11:08:04 GMT', got {raw!r}",
            field=f"{where}.{key}",
        )
    return value.astimezone(UTC)


def _energy(item: Mapping[str, Any], key: str, path: Path, where: str) -> float:
    raw = _field(item, key, path, where)
    value = raw if isinstance(raw, int | float) and not isinstance(raw, bool) else None
    if value is None or not math.isfinite(value) or value < 0:
        raise InputFileError(
            path, f"expected energy in kWh >= 0, got {raw!r}", field=f"{where}.{key}"
        )
    return float(value)


def _requested(item: Mapping[str, Any], path: Path, where: str) -> float | None:
    """The driver's last stated request: the app lets a driver change it while plugged in."""
    inputs = item.get("userInputs")
    if not inputs:
        return None
    if not isinstance(inputs, list) or not isinstance(inputs[-1], Mapping):
        raise InputFileError(path, "expected a list of objects", field=f"{where}.userInputs")
    last = len(inputs) - 1
    return _energy(inputs[-1], "kWhRequested", path, f"{where}.userInputs[{last}]")


def _within(arrival: datetime, options: AcnSiteOptions) -> bool:
    if options.start is not None and arrival < options.start:
        return False
    return options.end is None or arrival < options.end


def _unusable(
    session: AcnSession, options: AcnSiteOptions, earlier: Sequence[AcnSession]
) -> str | None:
    if session.departure <= session.arrival:
        return "disconnected before it connected"
    if options.energy == "requested" and session.requested_kwh is None:
        return "no requested energy (the driver did not use the app)"
    if earlier and session.arrival < earlier[-1].departure:
        return f"overlaps {earlier[-1].session_id} on space {session.space_id}"
    return None


def _energy_kwh(session: AcnSession, source: EnergySource) -> float:
    if source == "requested" and session.requested_kwh is not None:
        return session.requested_kwh
    return session.delivered_kwh
