"""A charger's Basic auth whose bytes are not UTF-8 is a failed login (401), never a
server error; sent byte for byte, as no client library would."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from adapters.ocpp import CentralSystem
from adapters.storage import SqliteStore
from tests.adapters.ocpp.stations import Events, make_settings
from tests.adapters.raw_http import status_of_raw_request

PASSWORD = "s3cret"


@pytest.fixture
async def guarded(store: SqliteStore, events: Events) -> AsyncIterator[CentralSystem]:
    system = CentralSystem(
        make_settings(passwords={"CP1": PASSWORD}, auth_max_failures=100), store, events
    )
    await system.start()
    yield system
    await system.stop()


def handshake(authorization: bytes) -> bytes:
    return (
        b"GET /ocpp/CP1 HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n"
        b"Upgrade: websocket\r\n"
        b"Connection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Protocol: ocpp1.6\r\n"
        b"Authorization: " + authorization + b"\r\n\r\n"
    )


def basic(credentials: bytes) -> bytes:
    return b"Basic " + base64.b64encode(credentials)


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (basic(b"CP1:\xff\xfe"), 401),
        (basic(b"CP1:" + PASSWORD.encode() + b"\xff"), 401),
        (basic("CP1:тест€".encode()), 401),
        (b"Basic \xff\xfe", 401),
        (basic(b"CP1:" + PASSWORD.encode()), 101),
    ],
    ids=["not-utf8", "password-and-a-stray-byte", "utf8", "raw-bytes", "right-password"],
)
async def test_odd_password_bytes_are_a_failed_login(
    guarded: CentralSystem, authorization: bytes, status: int
) -> None:
    assert await status_of_raw_request(guarded.port, handshake(authorization)) == status
