"""Outbound OCPP 2.0.1 requests (implements `adapters.ocpp.requests.RequestBuilder`)."""

from __future__ import annotations

from typing import Any

from adapters.ocpp.requests import split_list, to_int
from adapters.ocpp.results import Request

ACTIONS = frozenset(
    {
        "CancelReservation",
        "ChangeAvailability",
        "ClearCache",
        "ClearChargingProfile",
        "ClearVariableMonitoring",
        "DataTransfer",
        "GetBaseReport",
        "GetChargingProfiles",
        "GetCompositeSchedule",
        "GetLocalListVersion",
        "GetLog",
        "GetReport",
        "GetTransactionStatus",
        "GetVariables",
        "RequestStartTransaction",
        "RequestStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "SetVariables",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
    }
)

SMART_CHARGING_CTRLR = "SmartChargingCtrlr"
PROBED_VARIABLES = ("Enabled", "ProfileStackLevel", "RateUnit", "PeriodsPerSchedule")


def remote_start(id_token: str, connector_id: int | None, remote_start_id: int) -> Request:
    payload: dict[str, Any] = {
        "idToken": {"idToken": id_token, "type": "Central"},
        "remoteStartId": remote_start_id,
    }
    if connector_id:
        payload["evseId"] = connector_id
    return Request("RequestStartTransaction", payload)


def remote_stop(transaction_id: str) -> Request:
    return Request("RequestStopTransaction", {"transactionId": transaction_id})


def reset(hard: bool) -> Request:
    return Request("Reset", {"type": "Immediate" if hard else "OnIdle"})


def change_availability(connector_id: int, operative: bool) -> Request:
    payload: dict[str, Any] = {"operationalStatus": "Operative" if operative else "Inoperative"}
    if connector_id:
        payload["evse"] = {"id": connector_id}
    return Request("ChangeAvailability", payload)


def trigger_message(message: str, connector_id: int | None) -> Request:
    payload: dict[str, Any] = {"requestedMessage": message}
    if connector_id:
        payload["evse"] = {"id": connector_id}
    return Request("TriggerMessage", payload)


def unlock_connector(connector_id: int) -> Request:
    return Request("UnlockConnector", {"evseId": connector_id, "connectorId": 1})


def get_composite_schedule(connector_id: int, duration_s: int, rate_unit: str | None) -> Request:
    payload: dict[str, Any] = {"evseId": connector_id, "duration": duration_s}
    if rate_unit is not None:
        payload["chargingRateUnit"] = rate_unit
    return Request("GetCompositeSchedule", payload)


def get_variables(variables: list[tuple[str, str]]) -> Request:
    """`variables`: (component name, variable name) pairs."""
    return Request(
        "GetVariables",
        {
            "getVariableData": [
                {"component": {"name": component}, "variable": {"name": variable}}
                for component, variable in variables
            ]
        },
    )


def set_variables(values: list[tuple[str, str, str]]) -> Request:
    """`values`: (component name, variable name, value) triples."""
    return Request(
        "SetVariables",
        {
            "setVariableData": [
                {
                    "component": {"name": component},
                    "variable": {"name": variable},
                    "attributeValue": value,
                }
                for component, variable, value in values
            ]
        },
    )


def probe_capabilities() -> Request:
    return get_variables([(SMART_CHARGING_CTRLR, v) for v in PROBED_VARIABLES])


def read_capabilities(payload: dict[str, object]) -> dict[str, object]:
    results = payload.get("getVariableResult")
    raw: dict[str, object] = {}
    for result in results if isinstance(results, list) else []:
        if isinstance(result, dict) and result.get("attributeStatus") == "Accepted":
            variable = result.get("variable")
            if isinstance(variable, dict):
                raw[str(variable.get("name"))] = result.get("attributeValue")
    units = [u for u in split_list(raw.get("RateUnit")) if u in ("A", "W")]
    enabled = raw.get("Enabled")
    return {
        "max_stack_level": to_int(raw.get("ProfileStackLevel")),
        "rate_units": units or ["A", "W"],
        "max_periods": to_int(raw.get("PeriodsPerSchedule")),
        "smart_charging": str(enabled).lower() != "false" if enabled is not None else True,
        "raw": raw,
    }
