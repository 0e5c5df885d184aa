"""Trusting a charger again over the operator API, after it was caught drawing more than
allowed: the token, the refusals, and what reaches OperatorActions — against a real server
on loopback."""

from __future__ import annotations

import dataclasses

import aiohttp

from tests.adapters.http.fakes import FakeActions, FakeSource
from tests.adapters.http.test_operator import AUTH, post


def trust_url(base_url: str, charger: str, connector: str) -> str:
    return f"{base_url}/api/chargers/{charger}/connectors/{connector}/trust"


def caught(source: FakeSource, key: str, drawing_now: bool = False) -> None:
    """`key`'s charger was caught drawing too much (and still is, with `drawing_now`)."""
    snapshot = source.current
    connectors = tuple(
        dataclasses.replace(c, caught_drawing_too_much=True) if c.key == key else c
        for c in snapshot.connectors
    )
    controller = dataclasses.replace(
        snapshot.controller, drawing_too_much=(key,) if drawing_now else ()
    )
    source.current = dataclasses.replace(snapshot, connectors=connectors, controller=controller)


async def test_a_caught_charger_is_trusted_again(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource, actions: FakeActions
) -> None:
    caught(source, "cp2/1")
    status, body = await post(http, trust_url(base_url, "cp2", "1"), headers=AUTH)

    assert (status, body) == (200, {"connector": "cp2/1", "caught_drawing_too_much": False})
    assert actions.trusted == [("cp2", 1)]


async def test_a_charger_drawing_too_much_now_is_409(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource, actions: FakeActions
) -> None:
    caught(source, "cp2/1", drawing_now=True)
    status, body = await post(http, trust_url(base_url, "cp2", "1"), headers=AUTH)

    assert status == 409
    assert body["error"].startswith("cp2/1 draws more than allowed now")
    assert actions.trusted == []


async def test_a_charger_never_caught_is_409(
    http: aiohttp.ClientSession, base_url: str, actions: FakeActions
) -> None:
    status, body = await post(http, trust_url(base_url, "cp1", "1"), headers=AUTH)

    assert (status, body["error"]) == (409, "cp1/1 was never caught drawing more than allowed")
    assert actions.trusted == []


async def test_trusting_needs_the_token_and_a_known_connector(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource, actions: FakeActions
) -> None:
    caught(source, "cp2/1")
    async with http.post(trust_url(base_url, "cp2", "1")) as response:
        assert response.status == 401
    status, _ = await post(
        http, trust_url(base_url, "cp2", "1"), headers={"Authorization": "Bearer nope"}
    )
    assert status == 403
    status, body = await post(http, trust_url(base_url, "cp9", "1"), headers=AUTH)
    assert (status, body["field"]) == (404, "connector")
    assert actions.trusted == []
