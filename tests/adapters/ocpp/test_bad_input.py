"""Bad frames get the CALLERROR their protocol version names, and nobody else suffers."""

from __future__ import annotations

import json

import pytest
from ocpp.v16 import call as call16
from websockets.exceptions import ConnectionClosed

from adapters.ocpp import CentralSystem
from adapters.storage import SqliteStore
from tests.adapters.ocpp.stations import Events, RawClient, make_settings, raw_client, station16

BOOT16 = {"chargePointVendor": "Acme", "chargePointModel": "Wall"}
BOOT201 = {"chargingStation": {"model": "Pole", "vendorName": "Acme"}, "reason": "PowerUp"}

CASES = {
    # name: (frame, 1.6 answer (id, code), 2.0.1 answer (id, code))
    "invalid json": ("[2, 'x', ", ("-1", "FormationViolation"), ("-1", "RpcFrameworkError")),
    "invalid json with readable id": (
        '[2, "m1", "Heartbeat", {',
        ("m1", "FormationViolation"),
        ("m1", "RpcFrameworkError"),
    ),
    "not an array": ('{"hello": 1}', ("-1", "FormationViolation"), ("-1", "RpcFrameworkError")),
    "unknown message type": (
        '[7, "m2", "Heartbeat", {}]',
        ("m2", "FormationViolation"),
        ("m2", "MessageTypeNotSupported"),
    ),
    "call missing payload": (
        '[2, "m3", "Heartbeat"]',
        ("m3", "FormationViolation"),
        ("m3", "RpcFrameworkError"),
    ),
    "payload not an object": (
        '[2, "m4", "Heartbeat", []]',
        ("m4", "FormationViolation"),
        ("m4", "FormatViolation"),
    ),
    "message id too long": (
        json.dumps([2, "x" * 37, "Heartbeat", {}]),
        ("x" * 37, "FormationViolation"),
        ("x" * 37, "RpcFrameworkError"),
    ),
    "unknown action": (
        '[2, "m5", "MakeCoffee", {}]',
        ("m5", "NotImplemented"),
        ("m5", "NotImplemented"),
    ),
    "known action without handler": (
        '[2, "m6", "SignCertificate", {"csr": "x"}]',
        ("m6", "NotSupported"),
        ("m6", "NotSupported"),
    ),
}


@pytest.mark.parametrize("protocol", ["ocpp1.6", "ocpp2.0.1"])
@pytest.mark.parametrize("case", sorted(CASES))
async def test_bad_frame_gets_the_versions_callerror(
    system: CentralSystem, case: str, protocol: str
) -> None:
    frame, answer16, answer201 = CASES[case]
    message_id, code = answer16 if protocol == "ocpp1.6" else answer201
    charger_id = "CP1" if protocol == "ocpp1.6" else "CS1"
    async with raw_client(system, charger_id, protocol) as charger:
        answer = await charger.exchange(frame)
        assert answer[:3] == [4, message_id, code]
        assert isinstance(answer[3], str)
        assert answer[3]
        await still_served(charger, protocol)


async def still_served(charger: RawClient, protocol: str) -> None:
    payload = BOOT16 if protocol == "ocpp1.6" else BOOT201
    answer = await charger.call("ok-1", "BootNotification", payload)
    assert answer[:2] == [3, "ok-1"]
    assert answer[2]["status"] == "Accepted"


@pytest.mark.parametrize(
    ("protocol", "payload", "code"),
    [
        ("ocpp1.6", {"chargePointVendor": "Acme"}, "OccurenceConstraintViolation"),
        ("ocpp2.0.1", {"reason": "PowerUp"}, "OccurrenceConstraintViolation"),
        ("ocpp1.6", {"chargePointVendor": 5, "chargePointModel": "W"}, "TypeConstraintViolation"),
        (
            "ocpp1.6",
            {"chargePointVendor": "A" * 21, "chargePointModel": "W"},
            "TypeConstraintViolation",
        ),
        (
            "ocpp2.0.1",
            {"chargingStation": {"model": "P", "vendorName": "A"}, "reason": "Bored"},
            "PropertyConstraintViolation",
        ),
    ],
)
async def test_schema_violation(
    system: CentralSystem, store: SqliteStore, protocol: str, payload: dict, code: str
) -> None:
    charger_id = "CP1" if protocol == "ocpp1.6" else "CS1"
    async with raw_client(system, charger_id, protocol) as charger:
        answer = await charger.call("s1", "BootNotification", payload)
        assert answer[:3] == [4, "s1", code]
        await still_served(charger, protocol)
    assert any(e.kind == "bad_input" for e in store.list_events(charger_id))


async def test_unknown_fields_are_tolerated(system: CentralSystem) -> None:
    async with raw_client(system, "CP1", "ocpp1.6") as charger:
        answer = await charger.call("t1", "Heartbeat", {"vendorExtra": 1})
        assert answer[:2] == [3, "t1"]


async def test_duplicate_message_id_is_answered_once(
    system: CentralSystem, store: SqliteStore
) -> None:
    start = {
        "connectorId": 1,
        "idTag": "TAG1",
        "meterStart": 0,
        "timestamp": "2024-05-01T12:00:00Z",
    }
    async with raw_client(system, "CP1", "ocpp1.6") as charger:
        first = await charger.call("dup", "StartTransaction", start)
        assert first[:2] == [3, "dup"]
        await charger.send(json.dumps([2, "dup", "StartTransaction", start]))
        # The next answer is the heartbeat's: the repeat got none and started nothing.
        answer = await charger.call("hb", "Heartbeat", {})
        assert answer[:2] == [3, "hb"]
    assert len(store.list_transactions(charger_id="CP1")) == 1


async def test_oversized_frame_closes_with_a_reason_and_others_go_on(
    store: SqliteStore, events: Events
) -> None:

    system = CentralSystem(make_settings(max_frame_bytes=1024), store, events)
    await system.start()
    try:
        async with station16(system, "CP2") as other, raw_client(system, "CP1", "ocpp1.6") as big:
            await big.send(json.dumps([2, "big", "DataTransfer", {"vendorId": "x" * 2000}]))
            with pytest.raises(ConnectionClosed) as closed:
                await big.receive()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1009
            assert "exceeds limit" in closed.value.rcvd.reason
            heartbeat = await other.call(call16.Heartbeat(), suppress=False)
            assert heartbeat.current_time
    finally:
        await system.stop()


async def test_a_failing_event_consumer_does_not_break_the_charger(store: SqliteStore) -> None:

    def broken(event: object) -> None:
        raise RuntimeError("consumer bug")

    system = CentralSystem(make_settings(), store, broken)
    await system.start()
    try:
        async with station16(system, "CP1") as cp:
            answer = await cp.call(
                call16.StatusNotification(connector_id=1, error_code="NoError", status="Charging"),
                suppress=False,
            )
            assert answer is not None
    finally:
        await system.stop()
