"""Header bytes no client library would send reach the operator endpoints as a refusal
that names the fault (4xx), never as a server error."""

from __future__ import annotations

import pytest

from adapters.http import StatusServer
from tests.adapters.http.conftest import TOKEN
from tests.adapters.http.fakes import FakeActions
from tests.adapters.raw_http import status_of_raw_request


def override_request(authorization: bytes) -> bytes:
    body = b'{"limit_a": 20}'
    return (
        b"POST /api/site/limit-override HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n"
        b"Connection: close\r\n"
        b"Content-Type: application/json\r\n"
        b"Authorization: " + authorization + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (b"Bearer \xff\xfe", 400),
        ("Bearer тест€".encode("cp1251", errors="replace"), 400),
        (b"Bearer " + TOKEN.encode() + b"\xff", 400),
        ("Bearer тест€".encode(), 403),  # UTF-8 beyond latin-1: a token, a wrong one
        (b"\xff\xfe " + TOKEN.encode(), 401),
    ],
    ids=["not-utf8", "cp1251", "token-and-a-stray-byte", "utf8", "scheme-not-utf8"],
)
async def test_an_undecodable_token_is_refused_not_an_error(
    server: StatusServer, actions: FakeActions, authorization: bytes, status: int
) -> None:
    answer = await status_of_raw_request(server.port, override_request(authorization))

    assert answer == status
    assert actions.overrides == []


async def test_the_raw_request_carries_a_good_token(
    server: StatusServer, actions: FakeActions
) -> None:
    """The request above, with the right token, is the one that gets through."""
    answer = await status_of_raw_request(server.port, override_request(b"Bearer " + TOKEN.encode()))

    assert answer == 200
    assert actions.overrides == [20.0]
