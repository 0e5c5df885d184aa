"""The controller's own faults — no proper step, an optimizer fallback, connectors it cannot
bound — in /api/health, /api/status and /metrics, against a real server on loopback."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from adapters.http import UnprovenConnector
from adapters.http.health import STEP_MARGIN_S, UNPROVEN_GRACE_S
from tests.adapters.http.fakes import NOW, FakeSource
from tests.adapters.http.test_api import get
from tests.adapters.http.test_metrics import scrape, values

PERIOD_S = 10.0  # the fake controller's period


def change_controller(source: FakeSource, **change: Any) -> None:
    controller = dataclasses.replace(source.current.controller, **change)
    source.current = dataclasses.replace(source.current, controller=controller)


async def test_a_proper_step_within_the_period_and_margin_is_healthy(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    last = NOW - timedelta(seconds=PERIOD_S + STEP_MARGIN_S - 0.1)
    change_controller(source, last_proper_step_at=last)

    health = await get(http, f"{base_url}/api/health")

    assert health["ok"] is True
    assert health["seconds_since_proper_step"] == pytest.approx(11.9)


async def test_no_proper_step_for_longer_is_503_naming_the_last_error(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    change_controller(
        source,
        last_proper_step_at=NOW - timedelta(seconds=PERIOD_S + STEP_MARGIN_S + 1),
        last_error="the controller on Tick raised ZeroDivisionError: float division by zero",
        last_error_at=NOW - timedelta(seconds=1),
    )

    health = await get(http, f"{base_url}/api/health", status=503)

    assert health["problems"] == [
        "no proper control step for 13 s (control period 10 s); last step error: the"
        " controller on Tick raised ZeroDivisionError: float division by zero"
    ]
    assert health["last_proper_step_at"] == "2024-05-06T14:29:47Z"


async def test_no_proper_step_since_the_start_is_503(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    change_controller(
        source,
        started_at=NOW - timedelta(seconds=30),
        last_step_at=None,
        last_proper_step_at=None,
        last_error=None,
    )

    health = await get(http, f"{base_url}/api/health", status=503)

    assert health["problems"] == [
        "no proper control step in the 30 s since the start (control period 10 s)"
    ]
    assert health["last_proper_step_at"] is None
    assert health["seconds_since_proper_step"] == 30.0


async def test_a_last_step_on_the_optimizer_fallback_is_503_at_once(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    change_controller(
        source,
        last_step_fault="the optimizer used its safe fallback (fallback_infeasible)",
        last_fallback_at=NOW - timedelta(seconds=3),
    )

    health = await get(http, f"{base_url}/api/health", status=503)

    assert health["problems"] == [
        "last control step not proper: the optimizer used its safe fallback (fallback_infeasible)"
    ]


async def test_a_connector_unproven_past_the_grace_period_is_503_and_named(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    within = NOW - timedelta(seconds=UNPROVEN_GRACE_S - 1)
    change_controller(source, unproven=(UnprovenConnector("cp3/1", within),))
    assert (await get(http, f"{base_url}/api/health"))["unproven"] == ["cp3/1"]

    past = NOW - timedelta(seconds=UNPROVEN_GRACE_S + 1)
    change_controller(
        source,
        unproven=(UnprovenConnector("cp3/1", past), UnprovenConnector("cp2/2", within)),
    )
    health = await get(http, f"{base_url}/api/health", status=503)

    assert health["problems"] == [
        "unproven for more than 60 s (counted at their hardware maximum, no profile"
        " confirmed): cp3/1"
    ]
    assert health["unproven"] == ["cp3/1", "cp2/2"]


async def test_a_charger_drawing_more_than_allowed_is_503_and_named(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    change_controller(source, drawing_too_much=("cp2/1",))

    health = await get(http, f"{base_url}/api/health", status=503)
    status = await get(http, f"{base_url}/api/status")
    metrics = await scrape(http, base_url)

    assert health["problems"] == [
        "drawing more than allowed (counted at their hardware maximum, steered no more this"
        " session): cp2/1"
    ]
    assert health["drawing_too_much"] == ["cp2/1"]
    assert status["controller"]["drawing_too_much"] == ["cp2/1"]
    assert values(metrics["ems_connectors_drawing_too_much"]) == {(): 1}


async def test_every_fault_at_once_lists_every_problem(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    site = dataclasses.replace(source.current.site, mode="conservative")
    source.current = dataclasses.replace(source.current, site=site)
    change_controller(
        source,
        last_proper_step_at=NOW - timedelta(minutes=5),
        last_step_fault="the allocation solver raised RuntimeError: down",
        unproven=(UnprovenConnector("cp3/1", NOW - timedelta(minutes=5)),),
    )

    problems = (await get(http, f"{base_url}/api/health", status=503))["problems"]

    assert [p.split(":")[0].split(" (")[0] for p in problems] == [
        "controller in conservative mode",
        "no proper control step for 300 s",
        "last control step not proper",
        "unproven for more than 60 s",
    ]


async def test_status_shows_bounds_and_the_control_loop(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    change_controller(source, held_raises=("cp2/1",))

    status = await get(http, f"{base_url}/api/status")

    bounds = {
        c["key"]: (c["bound_a"], c["bound_source"], c["bound_proven"]) for c in status["connectors"]
    }
    assert bounds == {
        "cp1/1": (16.0, "its session profile", True),
        "cp2/1": (10.0, "a session profile not yet applied", True),
        "cp2/2": (0.0, "its session profile", True),
        "cp3/1": (32.0, "its hardware maximum: nothing confirmed holds it below that yet", False),
    }
    assert status["controller"] == {
        "period_s": 10.0,
        "started_at": "2024-05-06T09:30:00Z",
        "last_step_at": "2024-05-06T14:29:57Z",
        "last_proper_step_at": "2024-05-06T14:29:57Z",
        "seconds_since_proper_step": 3.0,
        "last_step_fault": None,
        "step_errors": 3,
        "last_error": "the controller on Tick raised KeyError: 'cp9/1'",
        "last_error_at": "2024-05-06T12:30:00Z",
        "fallback_steps": 1,
        "last_fallback_status": "fallback_infeasible",
        "last_fallback_at": "2024-05-06T12:30:00Z",
        "unproven": [{"key": "cp3/1", "since": "2024-05-06T14:29:40Z", "for_s": 20.0}],
        "unproven_grace_s": 60.0,
        "held_raises": ["cp2/1"],
        "untrusted_circuit_meters": [],
        "drawing_too_much": [],
    }
    assert status["health"]["ok"] is True


async def test_metrics_of_the_control_loop(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    change_controller(source, held_raises=("cp2/1", "cp2/2"))

    metrics = await scrape(http, base_url)

    assert values(metrics["ems_step_errors"]) == {(): 3}
    assert metrics["ems_step_errors"][0].name == "ems_step_errors_total"
    assert values(metrics["ems_optimizer_fallback_steps"]) == {(): 1}
    assert metrics["ems_optimizer_fallback_steps"][0].name == "ems_optimizer_fallback_steps_total"
    assert values(metrics["ems_connectors_unproven"]) == {(): 1}
    assert values(metrics["ems_raises_held"]) == {(): 2}
    assert values(metrics["ems_seconds_since_proper_step"]) == {(): 3.0}
    assert values(metrics["ems_connector_bound_amperes"]) == {
        ("cp1/1",): 16.0,
        ("cp2/1",): 10.0,
        ("cp2/2",): 0.0,
        ("cp3/1",): 32.0,
    }
    assert values(metrics["ems_connector_bound_proven"]) == {
        ("cp1/1",): 1,
        ("cp2/1",): 1,
        ("cp2/2",): 1,
        ("cp3/1",): 0,
    }
    assert values(metrics["ems_healthy"]) == {(): 1}

    change_controller(source, last_step_fault="the optimizer used its safe fallback (x)")
    metrics = await scrape(http, base_url)

    assert values(metrics["ems_healthy"]) == {(): 0}


async def test_seconds_since_proper_step_is_left_out_when_unknown(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    change_controller(source, started_at=None, last_proper_step_at=None)

    metrics = await scrape(http, base_url)

    assert "ems_seconds_since_proper_step" not in metrics
    assert (await get(http, f"{base_url}/api/health"))["seconds_since_proper_step"] is None


async def test_an_untrusted_circuit_meter_is_503_a_metric_and_a_status_line(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    reason = "circuit meter row-b stale: last good reading 12 s old"
    change_controller(source, untrusted_circuit_meters=(reason,))

    health = await get(http, f"{base_url}/api/health", status=503)
    status = await get(http, f"{base_url}/api/status")
    metrics = await scrape(http, base_url)

    assert health["problems"] == [reason]
    assert health["untrusted_circuit_meters"] == [reason]
    assert status["controller"]["untrusted_circuit_meters"] == [reason]
    assert values(metrics["ems_circuit_meters_untrusted"]) == {(): 1}
    assert values(metrics["ems_healthy"]) == {(): 0}
