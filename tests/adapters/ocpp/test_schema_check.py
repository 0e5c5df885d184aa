"""The compiled schema checks agree with `jsonschema` on every payload: a valid one passes
both, and any one that `jsonschema` refuses is refused by the check too (and then goes to
`jsonschema` for its CALLERROR, which therefore stays the same)."""

from __future__ import annotations

import copy
import decimal
import json
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.ocpp import frames
from adapters.ocpp.frames import CALL, CALL_RESULT, ErrorKind, schema_violation

NOW = "2026-12-06T16:23:41.316Z"
SAMPLED = [
    {"value": "16.0", "measurand": "Current.Import", "phase": p, "unit": "A"}
    for p in ("L1", "L2", "L3")
] + [
    {
        "value": "11040",
        "measurand": "Power.Active.Import",
        "unit": "W",
        "context": "Sample.Periodic",
    },
    {"value": "123456", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
]
VALID: list[tuple[str, int, str, dict[str, Any]]] = [
    ("1.6", CALL, "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}),
    (
        "1.6",
        CALL,
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Charging", "timestamp": NOW},
    ),
    ("1.6", CALL, "Authorize", {"idTag": "TAG1"}),
    (
        "1.6",
        CALL,
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG1", "meterStart": 100, "timestamp": NOW},
    ),
    (
        "1.6",
        CALL,
        "StopTransaction",
        {
            "transactionId": 7,
            "meterStop": 900,
            "timestamp": NOW,
            "reason": "EVDisconnected",
            "transactionData": [{"timestamp": NOW, "sampledValue": SAMPLED}],
        },
    ),
    (
        "1.6",
        CALL,
        "MeterValues",
        {
            "connectorId": 2,
            "transactionId": 7,
            "meterValue": [{"timestamp": NOW, "sampledValue": SAMPLED}],
        },
    ),
    ("1.6", CALL_RESULT, "SetChargingProfile", {"status": "Accepted"}),
    (
        "1.6",
        CALL,
        "SetChargingProfile",
        {
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 3001,
                "stackLevel": 1,
                "chargingProfilePurpose": "TxProfile",
                "chargingProfileKind": "Absolute",
                "transactionId": 7,
                "chargingSchedule": {
                    "startSchedule": NOW,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 21.4, "numberPhases": 3},
                        {"startPeriod": 600, "limit": 16},
                    ],
                },
            },
        },
    ),
    (
        "2.0.1",
        CALL,
        "TransactionEvent",
        {
            "eventType": "Updated",
            "timestamp": NOW,
            "triggerReason": "MeterValuePeriodic",
            "seqNo": 3,
            "transactionInfo": {"transactionId": "tx-1", "chargingState": "Charging"},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [
                {
                    "timestamp": NOW,
                    "sampledValue": [
                        {"value": 16.0, "measurand": "Current.Import", "phase": "L1"},
                        {"value": 11040, "measurand": "Power.Active.Import"},
                    ],
                }
            ],
        },
    ),
    (
        "2.0.1",
        CALL,
        "StatusNotification",
        {"timestamp": NOW, "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1},
    ),
]
REPLACEMENTS: list[Any] = [
    None,
    True,
    0,
    -1,
    2**64,
    1.5,
    21.45,
    1e20,
    "",
    "x" * 600,
    "yesterday",
    "2026-12-06T16:23:41",
    [],
    [{}],
    {},
]


def paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, (*at, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths(child, (*at, index))


def mutations(payload: dict[str, Any]) -> Iterator[Any]:
    """Every value replaced by each of `REPLACEMENTS`, every key removed, one extra key."""
    for path in paths(payload):
        if not path:
            continue
        for replacement in [*REPLACEMENTS, "DELETE"]:
            changed = copy.deepcopy(payload)
            parent = changed
            for step in path[:-1]:
                parent = parent[step]
            if replacement == "DELETE":
                del parent[path[-1]]
            else:
                parent[path[-1]] = replacement
            yield changed
    yield {**payload, "vendorExtra": {"anything": [1, 2]}}


def jsonschema_accepts(version: str, message_type: int, action: str, payload: Any) -> bool:
    decimals = (action, message_type == CALL_RESULT) in frames._DECIMAL_SCHEMAS.get(version, ())
    validator = frames._validator(message_type, action, version, decimals)
    if decimals:
        payload = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    return all(e.validator == "additionalProperties" for e in validator.iter_errors(payload))


@pytest.mark.parametrize(("version", "message_type", "action", "payload"), VALID)
def test_compiled_check_agrees_with_jsonschema(
    version: str, message_type: int, action: str, payload: dict[str, Any]
) -> None:
    decimals = (action, message_type == CALL_RESULT) in frames._DECIMAL_SCHEMAS.get(version, ())
    check = frames._compiled_check(message_type, action, version, decimals)
    assert check is not None, "the schemas chargers send most are compiled"
    assert check(payload)
    for changed in mutations(payload):
        assert check(changed) == jsonschema_accepts(version, message_type, action, changed), changed


def test_every_schema_compiles_or_is_left_to_jsonschema() -> None:
    """Only the 1.6 schemas with a format other than date-time have no compiled check."""
    left = {
        action
        for action in ("GetDiagnostics", "UpdateFirmware", "SetChargingProfile", "MeterValues")
        if frames._compiled_check(CALL, action, "1.6", action == "SetChargingProfile") is None
    }
    assert left == {"GetDiagnostics", "UpdateFirmware"}


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ({"connectorId": "1", "errorCode": "NoError", "status": "Available"}, ErrorKind.TYPE),
        ({"connectorId": 1, "errorCode": "NoError"}, ErrorKind.OCCURRENCE),
        ({"connectorId": 1, "errorCode": "NoError", "status": "Sleepy"}, ErrorKind.PROPERTY),
        (
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "now"},
            ErrorKind.TYPE,
        ),
        ({"connectorId": 2**64, "errorCode": "NoError", "status": "Available"}, ErrorKind.TYPE),
    ],
)
def test_refused_payloads_get_the_jsonschema_error(payload: dict[str, Any], kind: str) -> None:
    violation = schema_violation("1.6", "StatusNotification", payload)
    assert violation is not None
    assert violation.kind == kind
