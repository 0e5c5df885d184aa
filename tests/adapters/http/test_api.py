"""The read-only JSON API, against a real server on loopback."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from adapters.clock import iso_utc
from adapters.http import HttpSettings, StatusServer
from tests.adapters.http.fakes import FakeActions, FakeSource


async def get(http: aiohttp.ClientSession, url: str, status: int = 200) -> Any:
    async with http.get(url) as response:
        assert response.status == status, await response.text()
        assert response.content_type == "application/json"
        assert response.headers["Cache-Control"] == "no-store"
        return await response.json()


async def test_site(http: aiohttp.ClientSession, base_url: str) -> None:
    site = await get(http, f"{base_url}/api/site")

    assert site == {
        "at": "2024-05-06T14:30:00Z",
        "name": "Depot Nord",
        "limit_a": {"L1": 32.0, "L2": 32.0, "L3": 32.0},
        "configured_limit_a": 32.0,
        "override_limit_a": None,
        "limit_reason": None,
        "power_limit_w": 22000.0,
        "current_a": {"L1": 23.8, "L2": 31.5, "L3": 24.8},
        "base_load_a": {"L1": 8.0, "L2": 6.0, "L3": 9.0},
        "net_import_w": 18400.0,
        "export_w": 0.0,
        "pv_power_w": None,
        "self_consumption_w": None,
        "mode": "normal",
        "meter": {"age_s": 1.5, "valid": True, "reason": None, "stale_after_s": 10.0},
    }


async def test_chargers(http: aiohttp.ClientSession, base_url: str) -> None:
    chargers = (await get(http, f"{base_url}/api/chargers"))["chargers"]

    assert [c["id"] for c in chargers] == ["cp1", "cp2", "cp3"]
    assert chargers[0] == {
        "id": "cp1",
        "protocol": "ocpp1.6",
        "connected": True,
        "vendor": "ABB",
        "model": "Terra AC",
        "last_seen": "2024-05-06T14:29:56Z",
    }
    assert chargers[1]["protocol"] == "ocpp2.0.1"
    assert chargers[2]["connected"] is False


async def test_connectors(http: aiohttp.ClientSession, base_url: str) -> None:
    connectors = (await get(http, f"{base_url}/api/connectors"))["connectors"]

    assert [c["key"] for c in connectors] == ["cp1/1", "cp2/1", "cp2/2", "cp3/1"]
    assert connectors[1] == {
        "key": "cp2/1",
        "charger_id": "cp2",
        "connector_id": 1,
        "status": "Charging",
        "state": "charging",
        "reason": "site-L2",
        "allowed_a": {"L1": 0.0, "L2": 10.0, "L3": 0.0},
        "drawn_a": {"L1": 0.0, "L2": 9.7, "L3": 0.0},
        "power_w": 2231.0,
        "session_id": "tx-2a",
        "energy_wh": 3400.0,
        "bound_a": 10.0,
        "bound_source": "a session profile not yet applied",
        "bound_proven": True,
        "charging_mode": "fast",
        "caught_drawing_too_much": False,
    }
    assert connectors[2]["state"] == "paused"
    assert connectors[2]["reason"] == "insufficient_capacity"
    # Unknown measurements are null, never 0.
    assert connectors[3]["drawn_a"] == {"L1": None, "L2": None, "L3": None}
    assert connectors[3]["power_w"] is None


async def test_sessions(http: aiohttp.ClientSession, base_url: str) -> None:
    sessions = (await get(http, f"{base_url}/api/sessions"))["sessions"]

    assert sessions[0] == {
        "id": "1001",
        "connector": "cp1/1",
        "charger_id": "cp1",
        "connector_id": 1,
        "started_at": "2024-05-06T13:20:00Z",
        "energy_wh": 12345.0,
        "id_token": "04A1B2C3",
    }
    assert [s["id"] for s in sessions] == ["1001", "tx-2a", "tx-2b"]


async def test_allocation(http: aiohttp.ClientSession, base_url: str, source: FakeSource) -> None:
    document = await get(http, f"{base_url}/api/allocation")
    assert document["allocation"] == {
        "status": "optimal",
        "binding": ["site-L2"],
        "solve_ms": 42.5,
        "at": "2024-05-06T14:29:57Z",
    }

    source.current = dataclasses.replace(source.current, allocation=None)
    assert (await get(http, f"{base_url}/api/allocation"))["allocation"] is None


async def test_status_holds_everything(http: aiohttp.ClientSession, base_url: str) -> None:
    status = await get(http, f"{base_url}/api/status")

    assert status["site"] == await get(http, f"{base_url}/api/site")
    assert status["connectors"] == (await get(http, f"{base_url}/api/connectors"))["connectors"]
    assert status["chargers"] == (await get(http, f"{base_url}/api/chargers"))["chargers"]
    assert status["sessions"] == (await get(http, f"{base_url}/api/sessions"))["sessions"]
    assert status["allocation"]["binding"] == ["site-L2"]
    assert status["health"]["ok"] is True
    assert status["counters"] == {
        "profiles_sent": 57,
        "profiles_rejected": 2,
        "meter_errors": 1,
        "solves": 360,
        "solve_seconds_total": 14.4,
        "step_errors": 3,
        "fallback_steps": 1,
    }


async def test_each_request_reads_a_fresh_snapshot(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    site = dataclasses.replace(source.current.site, current_a=(1.0, 2.0, 3.0))
    source.current = dataclasses.replace(source.current, site=site)

    document = await get(http, f"{base_url}/api/site")

    assert document["current_a"] == {"L1": 1.0, "L2": 2.0, "L3": 3.0}


async def test_failed_meter_read_is_null_not_zero(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    site = dataclasses.replace(
        source.current.site, current_a=(None, float("nan"), 4.0), base_load_a=(None, None, None)
    )
    source.current = dataclasses.replace(source.current, site=site)

    document = await get(http, f"{base_url}/api/site")

    assert document["current_a"] == {"L1": None, "L2": None, "L3": 4.0}
    assert document["base_load_a"] == {"L1": None, "L2": None, "L3": None}


async def test_health_ok(http: aiohttp.ClientSession, base_url: str) -> None:
    health = await get(http, f"{base_url}/api/health")

    assert health == {
        "at": "2024-05-06T14:30:00Z",
        "ok": True,
        "problems": [],
        "mode": "normal",
        "meter_age_s": 1.5,
        "meter_valid": True,
        "meter_reason": None,
        "last_proper_step_at": "2024-05-06T14:29:57Z",
        "seconds_since_proper_step": 3.0,
        "step_errors": 3,
        "fallback_steps": 1,
        "unproven": ["cp3/1"],
        "held_raises": [],
        "untrusted_circuit_meters": [],
        "drawing_too_much": [],
    }


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"mode": "conservative"}, "controller in conservative mode"),
        ({"meter_age_s": 42.0}, "meter stale: last reading 42 s ago (limit 10 s)"),
        ({"meter_age_s": None}, "no meter reading yet"),
        ({"meter_valid": False, "meter_reason": "NaN on L2"}, "meter invalid: NaN on L2"),
    ],
)
async def test_health_unhealthy_is_503(
    http: aiohttp.ClientSession,
    base_url: str,
    source: FakeSource,
    change: dict[str, Any],
    problem: str,
) -> None:
    site = dataclasses.replace(source.current.site, **change)
    source.current = dataclasses.replace(source.current, site=site)

    health = await get(http, f"{base_url}/api/health", status=503)

    assert health["ok"] is False
    assert problem in health["problems"]


async def test_a_poll_without_an_answer_is_healthy_while_the_last_reading_is_fresh(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    silent = {"meter_valid": False, "meter_reason": "timeout: no answer", "meter_silent": True}
    site = dataclasses.replace(source.current.site, **silent)
    source.current = dataclasses.replace(source.current, site=site)
    assert (await get(http, f"{base_url}/api/health"))["ok"] is True

    site = dataclasses.replace(site, meter_age_s=42.0)
    source.current = dataclasses.replace(source.current, site=site)
    health = await get(http, f"{base_url}/api/health", status=503)
    assert health["problems"] == ["meter stale: last reading 42 s ago (limit 10 s)"]


async def test_page_and_assets_are_served(http: aiohttp.ClientSession, base_url: str) -> None:
    async with http.get(f"{base_url}/") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        html = await response.text()
    assert '<script src="/static/status.js"' in html
    assert 'id="connectors"' in html
    for asset, kind in (("status.js", "javascript"), ("status.css", "text/css")):
        async with http.get(f"{base_url}/static/{asset}") as response:
            assert response.status == 200
            assert kind in response.content_type


async def test_unknown_path_is_404(http: aiohttp.ClientSession, base_url: str) -> None:
    async with http.get(f"{base_url}/api/nothing") as response:
        assert response.status == 404


async def test_port_zero_binds_a_free_port_and_stop_releases_it(
    http: aiohttp.ClientSession,
) -> None:
    server = StatusServer(HttpSettings(port=0), FakeSource(), FakeActions())
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.port
    await server.start()
    port = server.port
    assert port > 0
    async with http.get(f"http://127.0.0.1:{port}/api/health") as response:
        assert response.status == 200

    await server.stop()

    with pytest.raises(aiohttp.ClientConnectionError):
        await http.get(f"http://127.0.0.1:{port}/api/health")


def test_times_must_be_aware() -> None:
    with pytest.raises(ValueError, match="naive"):
        iso_utc(datetime(2024, 5, 6, 14, 30))


async def test_a_taken_port_fails_start_and_leaves_nothing_running(server: StatusServer) -> None:
    second = StatusServer(HttpSettings(port=server.port), FakeSource(), FakeActions())

    with pytest.raises(OSError, match="in use"):
        await second.start()

    with pytest.raises(RuntimeError, match="not started"):
        _ = second.port
