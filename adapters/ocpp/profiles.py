"""Render controller commands as OCPP SetChargingProfile / ClearChargingProfile payloads.

The result is the request payload exactly as it goes on the wire (camelCase keys), valid
against the official 1.6 and 2.0.1 schemas. Rules that keep a site safe:

- every limit is rounded *down* to a multiple of 0.1 (rounding up can trip a fuse);
- a limit in W is total power: `limit_a × voltage_v × numberPhases` (numberPhases 3 unless
  the period or the charger says otherwise), then rounded down;
- profiles are Absolute with `startSchedule` = `command.start` in UTC with a `Z` suffix;
- a schedule longer than the charger accepts is shortened by merging its tail into one
  period at the *lowest* limit of the merged periods;
- period boundaries that fall between whole seconds move so that the lower limit of the
  two neighbours covers the fraction.

A refused profile is retried once (`SetLimit.attempt` 1) in a rendering that differs from
the first, never byte for byte the same request:

- the other rate unit (W after A), at the same stack level, if the charger accepts it;
- else the same unit one stack level lower (chargers refuse levels above what they
  support, often anything above 0), or level 1 if the first went out at 0 and the
  charger's `max_stack_level` allows it (a profile of the same purpose and level under
  another id may be what blocked it);
- else `NoOtherRendering` (a ValueError): nothing is sent and the charger counts as
  refusing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from adapters.clock import iso_utc
from ems.commands import ClearLimit, LimitPeriod, ProfilePurpose, SetLimit
from ems.events import ChargerCapabilities

OCPP16 = "ocpp1.6"
OCPP201 = "ocpp2.0.1"
PROTOCOLS = (OCPP16, OCPP201)

_PURPOSE_NAMES = {
    OCPP16: {
        ProfilePurpose.STATION_MAX: "ChargePointMaxProfile",
        ProfilePurpose.TX_DEFAULT: "TxDefaultProfile",
        ProfilePurpose.TX: "TxProfile",
    },
    OCPP201: {
        ProfilePurpose.STATION_MAX: "ChargingStationMaxProfile",
        ProfilePurpose.TX_DEFAULT: "TxDefaultProfile",
        ProfilePurpose.TX: "TxProfile",
    },
}

# Stack levels order profiles of the same purpose only; TX sits above the defaults so a
# charger that (wrongly) stacks across purposes still lets the transaction profile win.
_DEFAULT_STACK_LEVEL = {
    ProfilePurpose.STATION_MAX: 0,
    ProfilePurpose.TX_DEFAULT: 0,
    ProfilePurpose.TX: 1,
}

_TENTH = Decimal("0.1")


@dataclass(frozen=True)
class ChargerCaps:
    """What a charger accepts for smart charging (from its probed configuration).

    `max_stack_level` and `max_periods` None mean unknown: no clamping or clipping.
    `number_phases` is how many phases the connector is wired with (for W conversion).
    """

    rate_units: tuple[str, ...] = ("A", "W")
    max_stack_level: int | None = None
    max_periods: int | None = None
    number_phases: int = 3

    @classmethod
    def from_capabilities(cls, caps: ChargerCapabilities, number_phases: int = 3) -> ChargerCaps:
        return cls(
            rate_units=caps.rate_units,
            max_stack_level=caps.max_stack_level,
            max_periods=caps.max_periods,
            number_phases=number_phases,
        )


def floor_tenth(value: float) -> float:
    """Round down to a multiple of 0.1, exactly as the decimal the JSON will carry."""
    rounded = Decimal(repr(max(value, 0.0))).quantize(_TENTH, rounding=ROUND_FLOOR)
    return float(rounded)


def format_utc(at: datetime) -> str:
    """`2024-05-01T12:00:00Z`; fractions of a second are dropped (moves the start earlier)."""
    return iso_utc(at.replace(microsecond=0))


class NoOtherRendering(ValueError):
    """A retry (attempt 1) for which the charger allows no rendering other than the refused
    one: sending the same bytes again would only be refused again."""


def choose_unit(caps: ChargerCaps) -> str:
    """The first attempt's unit: A when the charger takes it (no voltage assumption)."""
    if "A" in caps.rate_units:
        return "A"
    if "W" in caps.rate_units:
        return "W"
    raise ValueError(f"charger accepts neither A nor W (rate units {caps.rate_units!r})")


def stack_level(command: SetLimit, caps: ChargerCaps) -> int:
    """The first attempt's stack level: the command's, else the purpose's default, within
    the charger's maximum."""
    level = command.stack_level
    if level is None:
        level = _DEFAULT_STACK_LEVEL[command.purpose]
    if caps.max_stack_level is not None:
        level = min(level, caps.max_stack_level)
    return max(level, 0)


def rendering(command: SetLimit, caps: ChargerCaps) -> tuple[str, int]:
    """(rate unit, stack level) for `command.attempt`: the first choice for attempt 0,
    for a retry the other unit, else a neighbouring level (see the module docstring)."""
    unit, level = choose_unit(caps), stack_level(command, caps)
    if command.attempt == 0:
        return unit, level
    other_unit = "W" if unit == "A" else "A"
    if other_unit in caps.rate_units:
        return other_unit, level
    if level > 0:
        return unit, level - 1
    if caps.max_stack_level is None or caps.max_stack_level >= 1:
        return unit, 1
    raise NoOtherRendering(
        f"{command.charger_id}/{command.connector_id}: no rendering left to retry the refused"
        f" {command.purpose.value} profile (rate units {caps.rate_units!r},"
        f" max stack level {caps.max_stack_level})"
    )


@dataclass(frozen=True)
class _Period:
    start_s: int
    limit_a: float
    number_phases: int | None


def _merge(a: _Period, b: _Period) -> _Period:
    """One period covering both, from the earlier start, at the lower limit and the fewer
    phases."""
    phases = [p for p in (a.number_phases, b.number_phases) if p is not None]
    return _Period(
        min(a.start_s, b.start_s), min(a.limit_a, b.limit_a), min(phases) if phases else None
    )


def _whole_second_periods(
    periods: tuple[LimitPeriod, ...], duration_s: int | None
) -> list[_Period]:
    """The command's schedule on whole-second starts, first at 0, within `duration_s`.

    Each whole-second interval gets the lowest limit the command has anywhere inside it, so
    a boundary between whole seconds never lets the higher neighbour cover the fraction.
    The first period reaches back to 0; periods sharing a start count at their minimum.
    """
    ordered = sorted(periods, key=lambda p: p.start_s)
    spans = [
        (
            0.0 if i == 0 else p.start_s,
            ordered[i + 1].start_s if i + 1 < len(ordered) else math.inf,
            p,
        )
        for i, p in enumerate(ordered)
    ]
    cuts = sorted({0, *(math.floor(b) for b, _, _ in spans), *(math.ceil(b) for b, _, _ in spans)})
    if duration_s is not None:
        cuts = [c for c in cuts if c < duration_s]
    end = math.inf if duration_s is None else duration_s
    out: list[_Period] = []
    for i, cut in enumerate(cuts):
        upto = cuts[i + 1] if i + 1 < len(cuts) else end
        inside = [p for b, e, p in spans if b < upto and (e > cut or cut <= b)]
        merged = _Period(cut, inside[0].limit_a, inside[0].number_phases)
        for p in inside[1:]:
            merged = _merge(merged, _Period(cut, p.limit_a, p.number_phases))
        if out and (out[-1].limit_a, out[-1].number_phases) == (
            merged.limit_a,
            merged.number_phases,
        ):
            continue
        out.append(merged)
    return out


def _clip(periods: list[_Period], max_periods: int | None) -> list[_Period]:
    if max_periods is None or len(periods) <= max(max_periods, 1):
        return periods
    keep = max(max_periods, 1) - 1
    tail = periods[keep]
    for p in periods[keep + 1 :]:
        tail = _merge(tail, p)
    return [*periods[:keep], tail]


def _period_payload(
    period: _Period, unit: str, voltage_v: float, caps: ChargerCaps
) -> dict[str, Any]:
    phases = period.number_phases or caps.number_phases
    if unit == "W":
        limit = floor_tenth(period.limit_a * voltage_v * phases)
    else:
        limit = floor_tenth(period.limit_a)
    return {"startPeriod": period.start_s, "limit": limit, "numberPhases": phases}


def _schedule(command: SetLimit, caps: ChargerCaps, unit: str) -> dict[str, Any]:
    if not command.periods:
        raise ValueError(f"{command.charger_id}/{command.connector_id}: SetLimit without periods")
    duration = None if command.duration_s is None else max(int(command.duration_s), 1)
    periods = _clip(_whole_second_periods(command.periods, duration), caps.max_periods)
    schedule: dict[str, Any] = {}
    if duration is not None:
        schedule["duration"] = duration
    schedule["startSchedule"] = format_utc(command.start)
    schedule["chargingRateUnit"] = unit
    schedule["chargingSchedulePeriod"] = [
        _period_payload(p, unit, command.voltage_v, caps) for p in periods
    ]
    return schedule


def _check_protocol(protocol: str) -> None:
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")


def _target_id(command: SetLimit | ClearLimit) -> int:
    return 0 if command.purpose is ProfilePurpose.STATION_MAX else command.connector_id


_PROFILE_ID_BASE = {
    ProfilePurpose.STATION_MAX: 1000,
    ProfilePurpose.TX_DEFAULT: 2000,
    ProfilePurpose.TX: 3000,
}


def profile_id_for(purpose: ProfilePurpose, connector_id: int) -> int:
    """Our chargingProfileId per (purpose, connector): a new limit replaces the one before
    instead of piling up beside it (strict 2.0.1 chargers refuse a second profile with
    the same purpose and stack level under another id)."""
    return _PROFILE_ID_BASE[purpose] + connector_id


def render_set_charging_profile(
    command: SetLimit, protocol: str, caps: ChargerCaps, profile_id: int
) -> dict[str, Any]:
    """The SetChargingProfile request payload for `protocol` ("ocpp1.6" or "ocpp2.0.1").

    Raises ValueError for a command that cannot be rendered validly: no periods, a naive
    start, a TX profile without a transaction id (or, in 1.6, a non-integer one), or a
    charger that accepts no known rate unit; `NoOtherRendering` for a retry (`attempt` 1)
    that could only repeat the refused request.
    """
    _check_protocol(protocol)
    unit, level = rendering(command, caps)
    profile: dict[str, Any] = {
        "stackLevel": level,
        "chargingProfilePurpose": _PURPOSE_NAMES[protocol][command.purpose],
        "chargingProfileKind": "Absolute",
    }
    if command.purpose is ProfilePurpose.TX:
        if command.transaction_id is None:
            raise ValueError(f"{command.charger_id}: a TX profile needs a transaction id")
        if protocol == OCPP16:
            try:
                profile["transactionId"] = int(command.transaction_id)
            except ValueError as exc:
                raise ValueError(
                    f"{command.charger_id}: 1.6 transaction id {command.transaction_id!r}"
                    " is not an integer"
                ) from exc
        else:
            profile["transactionId"] = command.transaction_id
    schedule = _schedule(command, caps, unit)
    if protocol == OCPP16:
        return {
            "connectorId": _target_id(command),
            "csChargingProfiles": {
                "chargingProfileId": profile_id,
                **profile,
                "chargingSchedule": schedule,
            },
        }
    return {
        "evseId": _target_id(command),
        "chargingProfile": {
            "id": profile_id,
            **profile,
            "chargingSchedule": [{"id": profile_id, **schedule}],
        },
    }


def render_clear_charging_profile(command: ClearLimit, protocol: str) -> dict[str, Any]:
    """The ClearChargingProfile request payload: every profile of the command's purpose on
    its connector (EVSE in 2.0.1; the whole charger for STATION_MAX)."""
    _check_protocol(protocol)
    purpose = _PURPOSE_NAMES[protocol][command.purpose]
    if protocol == OCPP16:
        return {"connectorId": _target_id(command), "chargingProfilePurpose": purpose}
    return {
        "chargingProfileCriteria": {
            "evseId": _target_id(command),
            "chargingProfilePurpose": purpose,
        }
    }
