"""Choosing the charging mode of a running session over the operator API: the token, the
input checks, and what reaches OperatorActions — against a real server on loopback."""

from __future__ import annotations

import aiohttp
import pytest

from tests.adapters.http.fakes import FakeActions
from tests.adapters.http.test_operator import AUTH, post


def mode_url(base_url: str, charger: str, connector: str) -> str:
    return f"{base_url}/api/chargers/{charger}/connectors/{connector}/mode"


async def test_a_mode_is_chosen_for_the_running_session(
    http: aiohttp.ClientSession, base_url: str, actions: FakeActions
) -> None:
    status, body = await post(
        http, mode_url(base_url, "cp2", "1"), headers=AUTH, json={"mode": "solar"}
    )

    assert (status, body) == (
        200,
        {"connector": "cp2/1", "session_id": "tx-2a", "charging_mode": "solar"},
    )
    assert actions.modes == [("cp2", 1, "solar")]


async def test_null_gives_the_session_its_chargers_mode_again(
    http: aiohttp.ClientSession, base_url: str, actions: FakeActions
) -> None:
    status, body = await post(
        http, mode_url(base_url, "cp1", "1"), headers=AUTH, data='{"mode": null}'
    )

    assert (status, body["charging_mode"]) == (200, None)
    assert actions.modes == [("cp1", 1, None)]


async def test_choosing_a_mode_needs_the_token(
    http: aiohttp.ClientSession, base_url: str, actions: FakeActions
) -> None:
    url = mode_url(base_url, "cp2", "1")
    async with http.post(url, json={"mode": "fast"}) as response:
        assert response.status == 401
    status, _ = await post(
        http, url, headers={"Authorization": "Bearer not-the-token"}, json={"mode": "fast"}
    )

    assert status == 403
    assert actions.modes == []


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ('{"mode": "turbo"}', "mode", "must be one of fast, planned, solar, min+solar or null"),
        ("{}", "mode", "required"),
        ('{"mode": "fast", "until": 3}', "until", "unknown field"),
        ('"fast"', "body", "must be a JSON object"),
        ("{mode", "body", "not valid JSON"),
    ],
)
async def test_a_bad_body_is_400_naming_the_field(
    http: aiohttp.ClientSession,
    base_url: str,
    actions: FakeActions,
    body: str,
    field: str,
    message: str,
) -> None:
    status, answer = await post(http, mode_url(base_url, "cp2", "1"), headers=AUTH, data=body)

    assert status == 400
    assert answer["field"] == field
    assert message in answer["error"]
    assert actions.modes == []


async def test_a_connector_without_a_session_is_409(
    http: aiohttp.ClientSession, base_url: str, actions: FakeActions
) -> None:
    status, answer = await post(
        http, mode_url(base_url, "cp3", "1"), headers=AUTH, json={"mode": "fast"}
    )

    assert status == 409
    assert answer["error"] == "no session runs on cp3/1: a mode is chosen per session"
    assert actions.modes == []


async def test_an_unknown_connector_is_404(
    http: aiohttp.ClientSession, base_url: str, actions: FakeActions
) -> None:
    status, answer = await post(
        http, mode_url(base_url, "cp9", "1"), headers=AUTH, json={"mode": "fast"}
    )

    assert (status, answer["field"]) == (404, "connector")
    assert actions.modes == []
