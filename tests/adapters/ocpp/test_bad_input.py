"""Bad frames get the CALLERROR their protocol version names, and nobody else suffers."""

from __future__ import annotations

import json
import logging

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


async def test_duplicate_message_id_gets_the_first_answer_again(
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
        # A charger that lost our answer sends the CALL again: same answer, nothing new.
        assert await charger.call("dup", "StartTransaction", start) == first
        answer = await charger.call("hb", "Heartbeat", {})
        assert answer[:2] == [3, "hb"]
    assert len(store.list_transactions(charger_id="CP1")) == 1


@pytest.mark.parametrize(
    ("protocol", "code"), [("ocpp1.6", "FormationViolation"), ("ocpp2.0.1", "RpcFrameworkError")]
)
async def test_message_id_reused_for_another_action_is_refused(
    system: CentralSystem, protocol: str, code: str
) -> None:
    charger_id = "CP1" if protocol == "ocpp1.6" else "CS1"
    async with raw_client(system, charger_id, protocol) as charger:
        assert (await charger.call("same", "Heartbeat", {}))[:2] == [3, "same"]
        payload = BOOT16 if protocol == "ocpp1.6" else BOOT201
        answer = await charger.call("same", "BootNotification", payload)
        assert answer[:3] == [4, "same", code]
        await still_served(charger, protocol)


def status16(**fields: object) -> dict:
    return {"connectorId": 1, "errorCode": "NoError", "status": "Available", **fields}


def status201(**fields: object) -> dict:
    return {
        "timestamp": "2024-05-01T12:00:00Z",
        "connectorStatus": "Available",
        "evseId": 1,
        "connectorId": 1,
        **fields,
    }


@pytest.mark.parametrize(
    ("protocol", "action", "payload", "code"),
    [
        (
            "ocpp1.6",
            "StatusNotification",
            status16(connectorId=2**64),
            "TypeConstraintViolation",
        ),
        ("ocpp2.0.1", "StatusNotification", status201(evseId=2**64), "TypeConstraintViolation"),
        (
            "ocpp1.6",
            "StopTransaction",
            {"meterStop": 1, "timestamp": "2024-05-01T12:00:00Z", "transactionId": "²"},
            "TypeConstraintViolation",
        ),
        (
            "ocpp1.6",
            "StatusNotification",
            status16(timestamp="yesterday"),
            "TypeConstraintViolation",
        ),
        (
            "ocpp2.0.1",
            "StatusNotification",
            status201(timestamp="yesterday"),
            "TypeConstraintViolation",
        ),
    ],
)
async def test_values_outside_the_ocpp_types_are_constraint_violations(
    system: CentralSystem, store: SqliteStore, protocol: str, action: str, payload: dict, code: str
) -> None:
    """Not an InternalError from the store, and no value replaced by one of ours."""
    charger_id = "CP1" if protocol == "ocpp1.6" else "CS1"
    async with raw_client(system, charger_id, protocol) as charger:
        answer = await charger.call("v1", action, payload)
        assert answer[:3] == [4, "v1", code]
        await still_served(charger, protocol)
    assert store.list_connectors(charger_id) == []
    assert store.list_transactions(charger_id=charger_id) == []


async def test_unknown_201_transaction_id_outside_ascii_is_recorded(
    system: CentralSystem, store: SqliteStore
) -> None:
    """A 2.0.1 transaction id is any string of up to 36 characters: "²" is one."""
    ended = {
        "eventType": "Ended",
        "timestamp": "2024-05-01T12:00:00Z",
        "triggerReason": "EVDeparted",
        "seqNo": 3,
        "transactionInfo": {"transactionId": "²"},
    }
    async with raw_client(system, "CS1", "ocpp2.0.1") as charger:
        answer = await charger.call("t1", "TransactionEvent", ended)
        assert answer[:2] == [3, "t1"]
    assert [t.ocpp_id for t in store.list_transactions(charger_id="CS1")] == ["²"]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("protocol", "code"), [("ocpp1.6", "FormationViolation"), ("ocpp2.0.1", "RpcFrameworkError")]
)
async def test_frame_nested_100000_deep_is_answered(
    system: CentralSystem, protocol: str, code: str
) -> None:
    charger_id = "CP1" if protocol == "ocpp1.6" else "CS1"
    async with raw_client(system, charger_id, protocol) as charger:
        answer = await charger.exchange(nested(100_000))
        assert answer[:3] == [4, "-1", code]
        await still_served(charger, protocol)


def warned(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The warnings and errors logged: bad input is logged as a warning (the INFO line
    announcing the connection may land inside the capture on a busy machine)."""
    return [
        r for r in caplog.records if r.name.startswith("adapters") and r.levelno >= logging.WARNING
    ]


@pytest.mark.parametrize(
    ("protocol", "code"), [("ocpp1.6", "FormationViolation"), ("ocpp2.0.1", "FormatViolation")]
)
async def test_payload_nested_900_deep_is_one_log_line(
    system: CentralSystem, caplog: pytest.LogCaptureFixture, protocol: str, code: str
) -> None:
    """A 1.8 kB frame that once wrote a 153 kB traceback into the log."""
    charger_id = "CP1" if protocol == "ocpp1.6" else "CS1"
    frame = f'[2,"deep","Heartbeat",{{"vendorExtra":{nested(900)}}}]'
    async with raw_client(system, charger_id, protocol) as charger:
        with caplog.at_level(logging.INFO, logger="adapters"):
            answer = await charger.exchange(frame)
            lines = warned(caplog)
        assert answer[:3] == [4, "deep", code]
        await still_served(charger, protocol)
    assert len(lines) == 1
    assert charger_id in lines[0].getMessage()
    assert not lines[0].exc_info
    assert len(lines[0].getMessage()) < 500


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


async def test_a_charger_repeating_bad_frames_does_not_flood_the_log(
    system: CentralSystem, store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Every frame is answered; the log and the store hear of the first few only."""
    async with raw_client(system, "CP1", "ocpp1.6") as charger:
        with caplog.at_level(logging.WARNING, logger="adapters"):
            for n in range(50):
                answer = await charger.exchange(f'[2, "b{n}", "Heartbeat", {{')
                assert answer[:3] == [4, f"b{n}", "FormationViolation"]
            lines = warned(caplog)
        await still_served(charger, "ocpp1.6")
    assert 1 <= len(lines) <= 10
    assert all("CP1" in line.getMessage() for line in lines)
    assert len([e for e in store.list_events("CP1") if e.kind == "bad_input"]) == len(lines)
