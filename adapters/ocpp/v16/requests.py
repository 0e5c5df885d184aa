"""Outbound OCPP 1.6J requests (implements `adapters.ocpp.requests.RequestBuilder`)."""

from __future__ import annotations

from typing import Any

from adapters.ocpp.requests import split_list, to_int
from adapters.ocpp.results import Request

ACTIONS = frozenset(
    {
        "CancelReservation",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "ClearChargingProfile",
        "DataTransfer",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDiagnostics",
        "GetLocalListVersion",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
    }
)

PROBED_KEYS = (
    "ChargeProfileMaxStackLevel",
    "ChargingScheduleAllowedChargingRateUnit",
    "ChargingScheduleMaxPeriods",
    "SupportedFeatureProfiles",
)
_RATE_UNITS = {"Current": "A", "Power": "W"}


def remote_start(id_token: str, connector_id: int | None, remote_start_id: int) -> Request:
    payload: dict[str, Any] = {"idTag": id_token}
    if connector_id:
        payload["connectorId"] = connector_id
    return Request("RemoteStartTransaction", payload)


def remote_stop(transaction_id: str) -> Request:
    return Request("RemoteStopTransaction", {"transactionId": int(transaction_id)})


def reset(hard: bool) -> Request:
    return Request("Reset", {"type": "Hard" if hard else "Soft"})


def change_availability(connector_id: int, operative: bool) -> Request:
    kind = "Operative" if operative else "Inoperative"
    return Request("ChangeAvailability", {"connectorId": connector_id, "type": kind})


def trigger_message(message: str, connector_id: int | None) -> Request:
    payload: dict[str, Any] = {"requestedMessage": message}
    if connector_id is not None:
        payload["connectorId"] = connector_id
    return Request("TriggerMessage", payload)


def unlock_connector(connector_id: int) -> Request:
    return Request("UnlockConnector", {"connectorId": connector_id})


def get_composite_schedule(connector_id: int, duration_s: int, rate_unit: str | None) -> Request:
    payload: dict[str, Any] = {"connectorId": connector_id, "duration": duration_s}
    if rate_unit is not None:
        payload["chargingRateUnit"] = rate_unit
    return Request("GetCompositeSchedule", payload)


def get_configuration(keys: list[str] | None = None) -> Request:
    return Request("GetConfiguration", {"key": keys} if keys else {})


def change_configuration(key: str, value: str) -> Request:
    return Request("ChangeConfiguration", {"key": key, "value": value})


def probe_capabilities() -> Request:
    return get_configuration(list(PROBED_KEYS))


def read_capabilities(payload: dict[str, object]) -> dict[str, object]:
    entries = payload.get("configurationKey")
    raw = {
        str(entry.get("key")): entry.get("value")
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, dict)
    }
    units = [_RATE_UNITS[u] for u in split_list(raw.get(PROBED_KEYS[1])) if u in _RATE_UNITS]
    profiles = split_list(raw.get("SupportedFeatureProfiles"))
    return {
        "max_stack_level": to_int(raw.get("ChargeProfileMaxStackLevel")),
        "rate_units": units or ["A", "W"],
        "max_periods": to_int(raw.get("ChargingScheduleMaxPeriods")),
        "smart_charging": "SmartCharging" in profiles if profiles else True,
        "raw": raw,
    }
