"""The operator endpoints: token, input validation, and what reaches OperatorActions."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from adapters.http import RemoteStopResult
from tests.adapters.http.conftest import TOKEN
from tests.adapters.http.fakes import FakeActions, FakeSource

AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def post(
    http: aiohttp.ClientSession,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    json: Any = None,
    data: str | None = None,
) -> tuple[int, Any]:
    if json is not None:
        kwargs: dict[str, Any] = {"json": json}
    else:
        kwargs = {"data": data}
    async with http.post(url, headers=headers, **kwargs) as response:
        return response.status, await response.json()


async def test_override_needs_a_token(
    http: aiohttp.ClientSession, base_url: str, actions: FakeActions
) -> None:
    url = f"{base_url}/api/site/limit-override"
    async with http.post(url, json={"limit_a": 25}) as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    status, body = await post(
        http, url, headers={"Authorization": "Bearer not-the-token"}, json={"limit_a": 25}
    )
    assert (status, body["error"]) == (403, "wrong token")
    status, _ = await post(http, url, headers={"Authorization": f"Basic {TOKEN}"}, json={})
    assert status == 401
    assert actions.overrides == []

    status, body = await post(http, url, headers=AUTH, json={"limit_a": 25})

    assert (status, body) == (200, {"override_limit_a": 25.0})
    assert actions.overrides == [25.0]


@pytest.mark.parametrize("body", ['{"limit_a": null}', "null"])
async def test_override_cleared_with_null(
    http: aiohttp.ClientSession, base_url: str, actions: FakeActions, body: str
) -> None:
    status, answer = await post(
        http, f"{base_url}/api/site/limit-override", headers=AUTH, data=body
    )

    assert (status, answer) == (200, {"override_limit_a": None})
    assert actions.overrides == [None]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ("{not json", "body", "not valid JSON"),
        ("", "body", "not valid JSON"),
        ("[25]", "body", "must be a JSON object"),
        ("{}", "limit_a", "required"),
        ('{"limit_a": "25"}', "limit_a", "must be a number"),
        ('{"limit_a": true}', "limit_a", "must be a number"),
        ('{"limit_a": -3}', "limit_a", "must be > 0"),
        ('{"limit_a": 0}', "limit_a", "must be > 0"),
        ('{"limit_a": 40}', "limit_a", "must not exceed the configured site limit of 32 A"),
        ('{"limit_a": 25, "limt": 1}', "limt", "unknown field"),
    ],
)
async def test_override_bad_input_is_400_naming_the_field(
    http: aiohttp.ClientSession,
    base_url: str,
    actions: FakeActions,
    body: str,
    field: str,
    words: str,
) -> None:
    status, answer = await post(
        http, f"{base_url}/api/site/limit-override", headers=AUTH, data=body
    )

    assert status == 400
    assert answer["field"] == field
    assert answer["error"].startswith(f"{field}: ")
    assert words in answer["error"]
    assert actions.overrides == []


async def test_override_refused_by_the_runtime_is_400(
    http: aiohttp.ClientSession, base_url: str, actions: FakeActions
) -> None:
    actions.refuse_override = "below the minimum of the running sessions"

    status, answer = await post(
        http, f"{base_url}/api/site/limit-override", headers=AUTH, json={"limit_a": 2}
    )

    assert status == 400
    assert answer == {
        "error": "limit_a: below the minimum of the running sessions",
        "field": "limit_a",
    }


async def test_remote_stop(
    http: aiohttp.ClientSession, base_url: str, actions: FakeActions
) -> None:
    url = f"{base_url}/api/chargers/cp2/sessions/tx-2a/stop"
    status, _ = await post(http, url, data="")
    assert status == 401
    assert actions.stops == []

    status, answer = await post(http, url, headers=AUTH, data="")

    assert status == 200
    assert answer == {
        "charger_id": "cp2",
        "session_id": "tx-2a",
        "accepted": True,
        "status": "Accepted",
        "detail": None,
    }
    assert actions.stops == [("cp2", "tx-2a")]


async def test_remote_stop_by_the_session_id_alone_finds_its_charger(
    http: aiohttp.ClientSession, base_url: str, actions: FakeActions
) -> None:
    status, answer = await post(http, f"{base_url}/api/sessions/tx-2a/stop", headers=AUTH)

    assert (status, answer["charger_id"]) == (200, "cp2")
    assert actions.stops == [("cp2", "tx-2a")]


async def test_a_session_id_running_on_two_chargers_needs_the_charger(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource, actions: FakeActions
) -> None:
    running = source.current.sessions
    source.current = replace(
        source.current,
        sessions=(*running, replace(running[1], id="1001", charger_id="cp3")),
    )

    status, answer = await post(http, f"{base_url}/api/sessions/1001/stop", headers=AUTH)

    assert status == 409
    assert answer["field"] == "id"
    assert "cp1" in answer["error"]
    assert "cp3" in answer["error"]
    assert "/api/chargers/" in answer["error"]
    assert actions.stops == []
    status, _ = await post(http, f"{base_url}/api/chargers/cp3/sessions/1001/stop", headers=AUTH)
    assert status == 200
    assert actions.stops == [("cp3", "1001")]


async def test_remote_stop_rejected_by_the_charger_is_409(
    http: aiohttp.ClientSession, base_url: str, actions: FakeActions
) -> None:
    actions.stop_result = RemoteStopResult(accepted=False, status="Offline", detail="cp2 gone")

    status, answer = await post(
        http, f"{base_url}/api/chargers/cp2/sessions/tx-2a/stop", headers=AUTH
    )

    assert status == 409
    assert answer["accepted"] is False
    assert (answer["status"], answer["detail"]) == ("Offline", "cp2 gone")


@pytest.mark.parametrize(
    "path", ["/api/sessions/9999/stop", "/api/chargers/cp1/sessions/tx-2a/stop"]
)
async def test_remote_stop_of_unknown_session_is_404(
    http: aiohttp.ClientSession, base_url: str, actions: FakeActions, path: str
) -> None:
    status, answer = await post(http, f"{base_url}{path}", headers=AUTH)

    assert status == 404
    assert answer["field"] == "id"
    assert path.split("/")[-2] in answer["error"]
    assert actions.stops == []


@pytest.mark.parametrize("token", [None])
async def test_without_a_configured_token_operator_endpoints_are_disabled(
    http: aiohttp.ClientSession, base_url: str, actions: FakeActions
) -> None:
    for url, body in (
        (f"{base_url}/api/site/limit-override", {"limit_a": 25}),
        (f"{base_url}/api/sessions/1001/stop", {}),
        (f"{base_url}/api/chargers/cp1/sessions/1001/stop", {}),
    ):
        status, answer = await post(http, url, headers=AUTH, json=body)
        assert status == 403
        assert "disabled" in answer["error"]
        assert "token" in answer["error"]
    assert actions.overrides == []
    assert actions.stops == []
