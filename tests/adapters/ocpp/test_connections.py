"""Who may connect, how: paths, subprotocols, unknown chargers, passwords, TLS, reconnects."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest
from ocpp.v16 import call as call16
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.headers import build_authorization_basic

from adapters.ocpp import CentralSystem
from adapters.ocpp.auth import hash_password, verify_password
from adapters.storage import Registration, SqliteStore
from ems.events import ChargerConnected, ChargerDisconnected
from tests.adapters.ocpp.stations import (
    Events,
    make_settings,
    raw_client,
    station16,
    url,
)

BOOT16 = {"chargePointVendor": "Acme", "chargePointModel": "Wall"}


async def started(store: SqliteStore, events: Events, **settings: object) -> CentralSystem:
    system = CentralSystem(make_settings(**settings), store, events)
    await system.start()
    return system


async def test_unknown_charger_is_refused_by_default(system: CentralSystem) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url(system, "STRANGER"), subprotocols=["ocpp1.6"], open_timeout=5):
            pass
    assert refused.value.response.status_code == 404


async def test_path_without_the_prefix_is_refused(system: CentralSystem) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            f"ws://127.0.0.1:{system.port}/other/CP1", subprotocols=["ocpp1.6"], open_timeout=5
        ):
            pass
    assert refused.value.response.status_code == 404


async def test_unknown_charger_accepted_by_policy(store: SqliteStore, events: Events) -> None:
    system = await started(store, events, unknown_chargers="accept")
    try:
        async with raw_client(system, "NEW1", "ocpp1.6") as charger:
            answer = await charger.call("b", "BootNotification", BOOT16)
            assert answer[2]["status"] == "Accepted"
    finally:
        await system.stop()


async def test_unknown_charger_pending_until_accepted(store: SqliteStore, events: Events) -> None:
    system = await started(store, events, unknown_chargers="pending")
    try:
        async with raw_client(system, "NEW2", "ocpp1.6") as charger:
            answer = await charger.call("b1", "BootNotification", BOOT16)
            assert answer[2]["status"] == "Pending"
            assert (await charger.call("h", "Heartbeat", {}))[0] == 3
            refused = await charger.call(
                "s",
                "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
            )
            assert refused[:3] == [4, "s", "SecurityError"]
            assert not events.of(ChargerConnected)
            store.set_registration("NEW2", Registration.ACCEPTED)
            answer = await charger.call("b2", "BootNotification", BOOT16)
            assert answer[2]["status"] == "Accepted"
            await events.wait_for(ChargerConnected)
    finally:
        await system.stop()


@pytest.mark.parametrize("offered", [None, ["ocpp1.5"]])
async def test_missing_or_unsupported_subprotocol_is_closed_with_a_reason(
    system: CentralSystem, store: SqliteStore, offered: list[str] | None
) -> None:
    async with connect(url(system, "CP1"), subprotocols=offered, open_timeout=5) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1002
    assert "ocpp1.6" in closed.value.rcvd.reason
    assert not system.connected_chargers()
    assert store.list_events("CP1")[0].kind == "refused"


async def test_password_is_checked(store: SqliteStore, events: Events) -> None:
    system = await started(store, events, passwords={"CP1": "s3cret"})
    try:
        for headers in ({}, {"Authorization": build_authorization_basic("CP1", "wrong")}):
            with pytest.raises(InvalidStatus) as refused:
                async with connect(
                    url(system, "CP1"),
                    subprotocols=["ocpp1.6"],
                    additional_headers=headers,
                    open_timeout=5,
                ):
                    pass
            assert refused.value.response.status_code == 401
        good = {"Authorization": build_authorization_basic("CP1", "s3cret")}
        async with station16(system, "CP1", additional_headers=good) as cp:
            assert (await cp.call(call16.Heartbeat(), suppress=False)).current_time
        # Chargers without a password are not affected.
        async with station16(system, "CP2") as cp:
            assert (await cp.call(call16.Heartbeat(), suppress=False)).current_time
    finally:
        await system.stop()
    charger = store.get_charger("CP1")
    assert charger is not None
    assert charger.password_hash is not None
    assert verify_password("s3cret", charger.password_hash)


def test_password_hashes() -> None:
    encoded = hash_password("pw")
    assert verify_password("pw", encoded)
    assert not verify_password("pW", encoded)
    assert not verify_password("pw", "scrypt$garbage")


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


async def test_tls(store: SqliteStore, events: Events, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    system = await started(store, events, tls_cert=cert, tls_key=key)
    try:
        client_tls = ssl.create_default_context(cafile=str(cert))
        async with station16(system, "CP1", scheme="wss", ssl=client_tls) as cp:
            assert (await cp.call(call16.Heartbeat(), suppress=False)).current_time
        with pytest.raises((InvalidHandshake, OSError)):
            async with connect(url(system, "CP1"), subprotocols=["ocpp1.6"], open_timeout=2):
                pass
    finally:
        await system.stop()


async def test_reconnect_replaces_the_old_connection(system: CentralSystem, events: Events) -> None:
    async with raw_client(system, "CP1", "ocpp1.6") as old:
        await old.call("b", "BootNotification", BOOT16)
        probe = await old.receive()
        assert probe[2] == "GetConfiguration"  # left unanswered: the socket went half-open
        async with station16(system, "CP1") as new:
            with pytest.raises(ConnectionClosed) as closed:
                await old.receive()
            assert closed.value.rcvd is not None
            assert "Replaced" in closed.value.rcvd.reason
            assert (await new.call(call16.Heartbeat(), suppress=False)).current_time
            assert system.connected_chargers() == ["CP1"]
            assert not events.of(ChargerDisconnected)
            assert (await system.reset("CP1")).accepted
    await events.wait_for(ChargerDisconnected)
    assert system.connected_chargers() == []
