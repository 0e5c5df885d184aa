"""Rendering of controller commands into OCPP profiles, checked against the official schemas
the `ocpp` package ships (the schemas strict chargers validate every frame with)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import ocpp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.ocpp.profiles import (
    OCPP16,
    OCPP201,
    ChargerCaps,
    NoOtherRendering,
    floor_tenth,
    render_clear_charging_profile,
    render_set_charging_profile,
)
from ems.commands import ClearLimit, LimitPeriod, ProfilePurpose, SetLimit
from ems.events import ChargerCapabilities

SCHEMAS = Path(ocpp.__file__).parent
START = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
_UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

_format_checker = jsonschema.FormatChecker()


@_format_checker.checks("date-time", raises=ValueError)
def _is_utc_date_time(value: object) -> bool:
    return not isinstance(value, str) or bool(_UTC_Z.match(value))


def _validator(protocol: str, action: str) -> Any:
    if protocol == OCPP16:
        path = SCHEMAS / "v16" / "schemas" / f"{action}.json"
    else:
        path = SCHEMAS / "v201" / "schemas" / f"{action}Request.json"
    # Decimal, as the JSON text carries it: 16.1 is a multiple of 0.1, its binary float not.
    schema = json.loads(path.read_text(encoding="utf-8-sig"), parse_float=Decimal)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=_format_checker)


def assert_valid(protocol: str, action: str, payload: dict[str, Any]) -> None:
    wire = json.loads(json.dumps(payload), parse_float=Decimal)
    _validator(protocol, action).validate(wire)


def cmd(
    *periods: tuple[float, float] | tuple[float, float, int],
    purpose: ProfilePurpose = ProfilePurpose.TX_DEFAULT,
    connector_id: int = 1,
    **kw: Any,
) -> SetLimit:
    return SetLimit(
        charger_id="CP1",
        connector_id=connector_id,
        purpose=purpose,
        periods=tuple(LimitPeriod(*p) for p in periods),
        start=kw.pop("start", START),
        reason="test",
        **kw,
    )


def profile_of(protocol: str, payload: dict[str, Any]) -> dict[str, Any]:
    return payload["csChargingProfiles"] if protocol == OCPP16 else payload["chargingProfile"]


def schedule_of(protocol: str, payload: dict[str, Any]) -> dict[str, Any]:
    profile = profile_of(protocol, payload)
    return profile["chargingSchedule"] if protocol == OCPP16 else profile["chargingSchedule"][0]


def limits_of(protocol: str, payload: dict[str, Any]) -> list[float]:
    return [p["limit"] for p in schedule_of(protocol, payload)["chargingSchedulePeriod"]]


BOTH = pytest.mark.parametrize("protocol", [OCPP16, OCPP201])


def test_tx_default_16_exact_payload() -> None:
    payload = render_set_charging_profile(cmd((0, 16.07)), OCPP16, ChargerCaps(), profile_id=7)
    assert_valid(OCPP16, "SetChargingProfile", payload)
    assert payload == {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 7,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": "2024-05-01T12:00:00Z",
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0, "numberPhases": 3}],
            },
        },
    }


def test_tx_201_exact_payload() -> None:
    command = cmd(
        (0, 16.0),
        (900, 10.0),
        purpose=ProfilePurpose.TX,
        transaction_id="tx-abc",
        duration_s=1800.7,
    )
    payload = render_set_charging_profile(command, OCPP201, ChargerCaps(), profile_id=12)
    assert_valid(OCPP201, "SetChargingProfile", payload)
    assert payload == {
        "evseId": 1,
        "chargingProfile": {
            "id": 12,
            "stackLevel": 1,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute",
            "transactionId": "tx-abc",
            "chargingSchedule": [
                {
                    "id": 12,
                    "duration": 1800,
                    "startSchedule": "2024-05-01T12:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                        {"startPeriod": 900, "limit": 10.0, "numberPhases": 3},
                    ],
                }
            ],
        },
    }


@BOTH
def test_station_max_addresses_whole_charger(protocol: str) -> None:
    command = cmd((0, 63.0), purpose=ProfilePurpose.STATION_MAX, connector_id=2)
    payload = render_set_charging_profile(command, protocol, ChargerCaps(), profile_id=1)
    assert_valid(protocol, "SetChargingProfile", payload)
    target = payload["connectorId"] if protocol == OCPP16 else payload["evseId"]
    assert target == 0
    profile = profile_of(protocol, payload)
    assert profile["chargingProfileKind"] == "Absolute"
    expected = "ChargePointMaxProfile" if protocol == OCPP16 else "ChargingStationMaxProfile"
    assert profile["chargingProfilePurpose"] == expected


def test_tx_16_transaction_id_is_integer() -> None:
    command = cmd((0, 10.0), purpose=ProfilePurpose.TX, transaction_id="42", duration_s=300)
    payload = render_set_charging_profile(command, OCPP16, ChargerCaps(), profile_id=3)
    assert_valid(OCPP16, "SetChargingProfile", payload)
    assert payload["csChargingProfiles"]["transactionId"] == 42
    assert payload["csChargingProfiles"]["chargingSchedule"]["duration"] == 300


@BOTH
def test_tx_without_transaction_is_refused(protocol: str) -> None:
    with pytest.raises(ValueError, match="transaction id"):
        render_set_charging_profile(
            cmd((0, 10.0), purpose=ProfilePurpose.TX), protocol, ChargerCaps(), 1
        )


def test_tx_16_non_integer_transaction_is_refused() -> None:
    command = cmd((0, 10.0), purpose=ProfilePurpose.TX, transaction_id="abc")
    with pytest.raises(ValueError, match="not an integer"):
        render_set_charging_profile(command, OCPP16, ChargerCaps(), 1)


@BOTH
def test_watts_only_charger(protocol: str) -> None:
    caps = ChargerCaps(rate_units=("W",))
    payload = render_set_charging_profile(cmd((0, 16.0)), protocol, caps, profile_id=1)
    assert_valid(protocol, "SetChargingProfile", payload)
    schedule = schedule_of(protocol, payload)
    assert schedule["chargingRateUnit"] == "W"
    assert schedule["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 11040.0, "numberPhases": 3}
    ]


@BOTH
def test_watts_single_phase_and_rounding_down(protocol: str) -> None:
    caps = ChargerCaps(rate_units=("W",))
    payload = render_set_charging_profile(cmd((0, 13.37, 1)), protocol, caps, profile_id=1)
    assert_valid(protocol, "SetChargingProfile", payload)
    period = schedule_of(protocol, payload)["chargingSchedulePeriod"][0]
    assert period == {"startPeriod": 0, "limit": 3075.1, "numberPhases": 1}  # 3075.1 W


@BOTH
def test_single_phase_connector_in_amps(protocol: str) -> None:
    caps = ChargerCaps(number_phases=1)
    payload = render_set_charging_profile(cmd((0, 32.0)), protocol, caps, profile_id=1)
    assert_valid(protocol, "SetChargingProfile", payload)
    assert schedule_of(protocol, payload)["chargingSchedulePeriod"][0]["numberPhases"] == 1


@BOTH
def test_prefers_amps_and_refuses_unknown_units(protocol: str) -> None:
    payload = render_set_charging_profile(cmd((0, 6.0)), protocol, ChargerCaps(), 1)
    assert schedule_of(protocol, payload)["chargingRateUnit"] == "A"
    with pytest.raises(ValueError, match="neither A nor W"):
        render_set_charging_profile(cmd((0, 6.0)), protocol, ChargerCaps(rate_units=()), 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(16.07, 16.0), (16.1, 16.1), (16.19999, 16.1), (0.09, 0.0), (-1.0, 0.0), (31.99, 31.9)],
)
def test_floor_tenth(value: float, expected: float) -> None:
    assert floor_tenth(value) == expected


@BOTH
def test_max_periods_merges_tail_at_minimum(protocol: str) -> None:
    command = cmd((0, 20.0), (60, 16.0), (120, 12.0), (180, 18.0), (240, 14.0))
    caps = ChargerCaps(max_periods=3)
    payload = render_set_charging_profile(command, protocol, caps, profile_id=1)
    assert_valid(protocol, "SetChargingProfile", payload)
    periods = schedule_of(protocol, payload)["chargingSchedulePeriod"]
    assert [(p["startPeriod"], p["limit"]) for p in periods] == [(0, 20.0), (60, 16.0), (120, 12.0)]


@BOTH
def test_max_periods_one(protocol: str) -> None:
    command = cmd((0, 20.0), (60, 16.0), (120, 25.0))
    payload = render_set_charging_profile(command, protocol, ChargerCaps(max_periods=1), 1)
    assert limits_of(protocol, payload) == [16.0]


@BOTH
def test_fractional_starts_give_the_fraction_to_the_lower_limit(protocol: str) -> None:
    command = cmd((0.0, 10.0), (59.5, 20.0), (119.5, 8.0))
    payload = render_set_charging_profile(command, protocol, ChargerCaps(), 1)
    assert_valid(protocol, "SetChargingProfile", payload)
    periods = schedule_of(protocol, payload)["chargingSchedulePeriod"]
    assert [(p["startPeriod"], p["limit"]) for p in periods] == [(0, 10.0), (60, 20.0), (119, 8.0)]


@BOTH
def test_periods_beyond_duration_are_dropped(protocol: str) -> None:
    command = cmd((0, 10.0), (600, 8.0), duration_s=300)
    payload = render_set_charging_profile(command, protocol, ChargerCaps(), 1)
    assert limits_of(protocol, payload) == [10.0]


@BOTH
def test_first_period_starts_at_zero(protocol: str) -> None:
    payload = render_set_charging_profile(cmd((30, 10.0), (90, 8.0)), protocol, ChargerCaps(), 1)
    periods = schedule_of(protocol, payload)["chargingSchedulePeriod"]
    assert [p["startPeriod"] for p in periods] == [0, 90]


@pytest.mark.parametrize(
    ("purpose", "requested", "max_level", "expected"),
    [
        (ProfilePurpose.TX_DEFAULT, None, None, 0),
        (ProfilePurpose.STATION_MAX, None, None, 0),
        (ProfilePurpose.TX, None, None, 1),
        (ProfilePurpose.TX, None, 0, 0),
        (ProfilePurpose.TX_DEFAULT, 5, 8, 5),
        (ProfilePurpose.TX_DEFAULT, 5, 3, 3),
    ],
)
@BOTH
def test_stack_levels(
    protocol: str,
    purpose: ProfilePurpose,
    requested: int | None,
    max_level: int | None,
    expected: int,
) -> None:
    command = cmd((0, 10.0), purpose=purpose, transaction_id="5", stack_level=requested)
    payload = render_set_charging_profile(
        command, protocol, ChargerCaps(max_stack_level=max_level), 1
    )
    assert_valid(protocol, "SetChargingProfile", payload)
    assert profile_of(protocol, payload)["stackLevel"] == expected


@BOTH
def test_start_is_utc_with_z(protocol: str) -> None:
    local = datetime(2024, 5, 1, 14, 0, 0, 500_000, tzinfo=timezone(timedelta(hours=2)))
    payload = render_set_charging_profile(cmd((0, 10.0), start=local), protocol, ChargerCaps(), 1)
    assert schedule_of(protocol, payload)["startSchedule"] == "2024-05-01T12:00:00Z"


@BOTH
def test_naive_start_is_refused(protocol: str) -> None:
    naive = datetime(2024, 5, 1, 12, 0, 0)
    with pytest.raises(ValueError, match="naive"):
        render_set_charging_profile(cmd((0, 10.0), start=naive), protocol, ChargerCaps(), 1)


def test_caps_from_probed_capabilities() -> None:
    probed = ChargerCapabilities("CP1", START, max_stack_level=2, rate_units=("W",), max_periods=5)
    caps = ChargerCaps.from_capabilities(probed, number_phases=1)
    assert caps == ChargerCaps(rate_units=("W",), max_stack_level=2, max_periods=5, number_phases=1)


@pytest.mark.parametrize("purpose", list(ProfilePurpose))
def test_clear_16(purpose: ProfilePurpose) -> None:
    payload = render_clear_charging_profile(ClearLimit("CP1", 2, purpose, "test"), OCPP16)
    assert_valid(OCPP16, "ClearChargingProfile", payload)
    connector = 0 if purpose is ProfilePurpose.STATION_MAX else 2
    assert payload["connectorId"] == connector


def test_clear_201_exact() -> None:
    payload = render_clear_charging_profile(
        ClearLimit("CP1", 2, ProfilePurpose.TX_DEFAULT, "test"), OCPP201
    )
    assert_valid(OCPP201, "ClearChargingProfile", payload)
    assert payload == {
        "chargingProfileCriteria": {"evseId": 2, "chargingProfilePurpose": "TxDefaultProfile"}
    }


def unit_and_level(protocol: str, payload: dict[str, Any]) -> tuple[str, int]:
    unit = schedule_of(protocol, payload)["chargingRateUnit"]
    return unit, profile_of(protocol, payload)["stackLevel"]


@pytest.mark.parametrize("rate_units", [("A", "W"), ("W", "A")])
@BOTH
def test_retry_switches_amps_to_watts(protocol: str, rate_units: tuple[str, ...]) -> None:
    first = cmd((0, 16.0), (600, 13.37, 1), duration_s=900)
    caps = ChargerCaps(rate_units=rate_units)
    payloads = [
        render_set_charging_profile(c, protocol, caps, 1)
        for c in (first, replace(first, attempt=1))
    ]
    for payload in payloads:
        assert_valid(protocol, "SetChargingProfile", payload)
    assert [unit_and_level(protocol, p) for p in payloads] == [("A", 0), ("W", 0)]
    # W is total power: A × 230 V × numberPhases, rounded down to 0.1.
    assert schedule_of(protocol, payloads[1])["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 11040.0, "numberPhases": 3},
        {"startPeriod": 600, "limit": 3075.1, "numberPhases": 1},
    ]


@pytest.mark.parametrize(
    ("rate_units", "purpose", "max_level", "first", "retry"),
    [
        (("W",), ProfilePurpose.TX_DEFAULT, None, ("W", 0), ("W", 1)),
        (("W",), ProfilePurpose.TX, None, ("W", 1), ("W", 0)),
        (("A",), ProfilePurpose.TX, 3, ("A", 1), ("A", 0)),
        (("A",), ProfilePurpose.STATION_MAX, 1, ("A", 0), ("A", 1)),
    ],
)
@BOTH
def test_retry_moves_the_stack_level_when_the_unit_cannot_change(
    protocol: str,
    rate_units: tuple[str, ...],
    purpose: ProfilePurpose,
    max_level: int | None,
    first: tuple[str, int],
    retry: tuple[str, int],
) -> None:
    command = cmd((0, 10.0), purpose=purpose, transaction_id="5")
    caps = ChargerCaps(rate_units=rate_units, max_stack_level=max_level)
    payloads = [
        render_set_charging_profile(c, protocol, caps, 1)
        for c in (command, replace(command, attempt=1))
    ]
    for payload in payloads:
        assert_valid(protocol, "SetChargingProfile", payload)
    assert [unit_and_level(protocol, p) for p in payloads] == [first, retry]
    assert limits_of(protocol, payloads[0]) == limits_of(protocol, payloads[1])


@pytest.mark.parametrize("rate_units", [("A",), ("W",)])
@BOTH
def test_retry_without_another_rendering_is_refused(
    protocol: str, rate_units: tuple[str, ...]
) -> None:
    caps = ChargerCaps(rate_units=rate_units, max_stack_level=0)
    command = cmd((0, 10.0), purpose=ProfilePurpose.TX, transaction_id="5")
    assert unit_and_level(protocol, render_set_charging_profile(command, protocol, caps, 1)) == (
        rate_units[0],
        0,
    )
    with pytest.raises(NoOtherRendering, match="no rendering left"):
        render_set_charging_profile(replace(command, attempt=1), protocol, caps, 1)


def test_unknown_protocol() -> None:
    with pytest.raises(ValueError, match="unknown protocol"):
        render_set_charging_profile(cmd((0, 10.0)), "ocpp1.5", ChargerCaps(), 1)


# --- properties -----------------------------------------------------------------------

limits = st.floats(min_value=0.0, max_value=500.0, allow_nan=False)
period_lists = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=86_400.0), limits, st.sampled_from([None, 1, 2, 3])
    ),
    min_size=1,
    max_size=40,
)
caps_strategy = st.builds(
    ChargerCaps,
    rate_units=st.sampled_from([("A",), ("W",), ("A", "W"), ("W", "A")]),
    max_stack_level=st.one_of(st.none(), st.integers(0, 10)),
    max_periods=st.one_of(st.none(), st.integers(1, 30)),
    number_phases=st.sampled_from([1, 3]),
)
commands = st.builds(
    SetLimit,
    charger_id=st.just("CP1"),
    connector_id=st.integers(0, 4),
    purpose=st.sampled_from(list(ProfilePurpose)),
    periods=period_lists.map(lambda ps: tuple(LimitPeriod(*p) for p in ps)),
    start=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    reason=st.just("prop"),
    duration_s=st.one_of(st.none(), st.floats(min_value=0.0, max_value=172_800.0)),
    transaction_id=st.integers(1, 2**31 - 1).map(str),
    stack_level=st.one_of(st.none(), st.integers(0, 20)),
    voltage_v=st.sampled_from([220.0, 230.0, 240.0, 277.0]),
)


def _as_amps(period: dict[str, Any], unit: str, voltage_v: float) -> float:
    if unit == "A":
        return float(period["limit"])
    return float(period["limit"]) / (voltage_v * period["numberPhases"])


@settings(max_examples=300, deadline=None)
@given(command=commands, caps=caps_strategy, protocol=st.sampled_from([OCPP16, OCPP201]))
def test_property_schema_valid_and_never_above_limit(
    command: SetLimit, caps: ChargerCaps, protocol: str
) -> None:
    payload = render_set_charging_profile(command, protocol, caps, profile_id=1)
    assert_valid(protocol, "SetChargingProfile", payload)
    schedule = schedule_of(protocol, payload)
    periods = schedule["chargingSchedulePeriod"]
    assert periods[0]["startPeriod"] == 0
    starts = [p["startPeriod"] for p in periods]
    assert starts == sorted(set(starts))
    if caps.max_periods is not None:
        assert len(periods) <= caps.max_periods
    assert_never_above(command, schedule)


@settings(max_examples=300, deadline=None)
@given(command=commands, caps=caps_strategy, protocol=st.sampled_from([OCPP16, OCPP201]))
def test_property_retry_differs_or_is_refused(
    command: SetLimit, caps: ChargerCaps, protocol: str
) -> None:
    first = render_set_charging_profile(command, protocol, caps, profile_id=1)
    try:
        retry = render_set_charging_profile(replace(command, attempt=1), protocol, caps, 1)
    except NoOtherRendering:
        assert caps.max_stack_level == 0
        assert set(caps.rate_units) != {"A", "W"}
        return
    assert_valid(protocol, "SetChargingProfile", retry)
    assert unit_and_level(protocol, retry) != unit_and_level(protocol, first)
    if caps.max_stack_level is not None:
        assert profile_of(protocol, retry)["stackLevel"] <= caps.max_stack_level
    assert schedule_of(protocol, retry)["chargingRateUnit"] in caps.rate_units
    assert_never_above(command, schedule_of(protocol, retry))


def assert_never_above(command: SetLimit, schedule: dict[str, Any]) -> None:
    """The rendered schedule never allows more than the command at any time."""
    periods = schedule["chargingSchedulePeriod"]
    starts = [p["startPeriod"] for p in periods]
    # Both are step functions; comparing them at every breakpoint of either covers all t.
    unit = schedule["chargingRateUnit"]
    ordered = sorted(command.periods, key=lambda p: p.start_s)
    breakpoints = sorted({0.0, *(p.start_s for p in ordered), *(float(s) for s in starts)})
    if "duration" in schedule:
        breakpoints = [b for b in breakpoints if b < schedule["duration"]]
    for t in breakpoints:
        wanted = [p.limit_a for p in ordered if p.start_s <= t] or [ordered[0].limit_a]
        rendered = [p for p in periods if p["startPeriod"] <= t][-1]
        assert _as_amps(rendered, unit, command.voltage_v) <= wanted[-1] + 1e-9


@settings(max_examples=300, deadline=None)
@given(limit=limits, caps=caps_strategy, protocol=st.sampled_from([OCPP16, OCPP201]))
def test_property_single_limit_within_a_tenth(
    limit: float, caps: ChargerCaps, protocol: str
) -> None:
    payload = render_set_charging_profile(cmd((0, limit)), protocol, caps, profile_id=1)
    assert_valid(protocol, "SetChargingProfile", payload)
    schedule = schedule_of(protocol, payload)
    rendered_a = _as_amps(
        schedule["chargingSchedulePeriod"][0], schedule["chargingRateUnit"], 230.0
    )
    assert limit - 0.1 - 1e-9 <= rendered_a <= limit + 1e-9
