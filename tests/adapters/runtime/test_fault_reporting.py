"""The runtime reports its own faults — exceptions in the control step, optimizer fallbacks,
connectors it cannot bound — through /api/health, /api/status and /metrics. Real edges: a
SQLite file, the central system with a simulated charger, the status server over HTTP.

Time-dependent checks move the runtime's clock ahead instead of waiting (the simulated
charger shares that clock)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.files.app_config import load_app_config
from adapters.http.health import UNPROVEN_GRACE_S
from adapters.ocpp.sim import OCPP201, SimChargerConfig, SimulatedCharger, SimulatedEV
from adapters.runtime import SiteRuntime
from adapters.runtime.counters import ERRORS_QUIET_S
from ems.solver_port import AllocationSolver
from optimizer.allocation import Allocation, SolveStatus
from optimizer.fallback import equal_share
from optimizer.problem import Problem
from optimizer.solver import Solver
from tests.adapters.http.test_metrics import scrape, values
from tests.e2e.rig import wait_until

RUNTIME_LOG = "adapters.runtime.site_runtime"
SOLVER_DOWN = "the allocation solver raised RuntimeError: solver down"

SITE_TOML = """\
[site]
name = "Fault reporting site"
limit_a = 40
worst_base_load_a = [10, 10, 10]

# Never connects in these tests: counted at its 16 A maximum, unproven.
[[chargers]]
id = "CP1"
  [[chargers.connectors]]
  connector_id = 1
  phases = "L1L2L3"
  max_current_a = 16

[[chargers]]
id = "CP2"
  [[chargers.connectors]]
  connector_id = 1
  phases = "L2"
  max_current_a = 32

[control]
period_s = 0.5
pause_dwell_s = 2
min_update_interval_s = 0.5

[ocpp]
host = "127.0.0.1"
port = 0
unknown_tokens = "accept"
call_timeout_s = 5

[http]
host = "127.0.0.1"
port = 0

[store]
path = "runtime.sqlite"
"""
"""40 A less 10 A of base load leaves 30 A per phase: room for CP1 at its maximum and an EV
on CP2 at 12 A, so the real solver finds an optimal allocation."""


class ShiftedClock:
    """Real UTC time, which a test may move ahead."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


class FailingSolver:
    """Raises on every call while `failing`; the real solver otherwise."""

    def __init__(self) -> None:
        self.failing = True
        self.calls = 0
        self._real = Solver()

    def solve(self, problem: Problem) -> Allocation:
        self.calls += 1
        if self.failing:
            raise RuntimeError("solver down")
        return self._real.solve(problem)


class InfeasibleSolver:
    """Answers every problem with the optimizer's safe fallback, as on an infeasible LP."""

    def __init__(self) -> None:
        self.calls = 0

    def solve(self, problem: Problem) -> Allocation:
        self.calls += 1
        return equal_share(problem, SolveStatus.FALLBACK_INFEASIBLE)


Start = Callable[..., Any]


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Start]:
    """Starts the runtime (with the solver and clock given) and, optionally, CP2 with a
    one-phase EV charging; stops everything afterwards."""
    started: list[SiteRuntime] = []
    sims: list[SimulatedCharger] = []

    async def start(
        solver: AllocationSolver | None = None,
        clock: ShiftedClock | None = None,
        charging: bool = True,
    ) -> tuple[SiteRuntime, SimulatedCharger | None]:
        clock = clock or ShiftedClock()
        path = tmp_path / "site.toml"
        path.write_text(SITE_TOML, encoding="utf-8")
        runtime = SiteRuntime(load_app_config(path), clock=clock, solver=solver)
        await runtime.start()
        started.append(runtime)
        if not charging:
            return runtime, None
        config = SimChargerConfig(
            "CP2", OCPP201, number_phases=1, meter_interval_s=0.5, heartbeat_interval_s=3600
        )
        sim = SimulatedCharger(config, runtime.ocpp_url, clock=clock)
        sims.append(sim)
        await sim.start()
        transaction_id = await sim.plug_in(1, SimulatedEV(max_current_a=12, charger_phases=(1,)))
        assert transaction_id is not None
        return runtime, sim

    yield start
    for sim in sims:
        await sim.stop()
    for runtime in started:
        await runtime.stop()


async def get_json(runtime: SiteRuntime, path: str) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{runtime.http_port}{path}"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


async def metrics_of(runtime: SiteRuntime) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        return await scrape(session, f"http://127.0.0.1:{runtime.http_port}")


def scalar(metrics: dict[str, Any], name: str) -> float:
    return values(metrics[name])[()]


def error_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == RUNTIME_LOG and r.levelno >= logging.ERROR
    ]


async def test_a_solver_raising_on_every_call_is_counted_and_fails_health(
    site: Start, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=RUNTIME_LOG)
    solver, clock = FailingSolver(), ShiftedClock()
    runtime, _ = await site(solver, clock)

    await wait_until(lambda: runtime.counters.step_errors >= 3, 10, "three step errors")

    status, health = await get_json(runtime, "/api/health")
    assert status == 503
    assert (
        f"last control step not proper: {SOLVER_DOWN}; sessions held at their fallbacks"
        in health["problems"]
    )
    assert health["step_errors"] >= 3
    assert health["fallback_steps"] == 0
    metrics = await metrics_of(runtime)
    assert scalar(metrics, "ems_step_errors") >= 3
    assert scalar(metrics, "ems_optimizer_fallback_steps") == 0
    assert scalar(metrics, "ems_healthy") == 0
    _, document = await get_json(runtime, "/api/status")
    assert document["counters"]["step_errors"] >= 3
    assert document["controller"]["last_error"] == SOLVER_DOWN
    assert document["controller"]["last_step_fault"].startswith(SOLVER_DOWN)
    # One error line for the whole run of errors, however many there were.
    assert len(error_lines(caplog)) == 1
    assert SOLVER_DOWN in error_lines(caplog)[0]

    # Steps keep failing: past one period (and the margin) without a proper step.
    clock.offset += timedelta(seconds=10)
    status, health = await get_json(runtime, "/api/health")
    stale = [p for p in health["problems"] if p.startswith("no proper control step for ")]
    assert status == 503
    assert len(stale) == 1
    assert stale[0].endswith(f"(control period 0.5 s); last step error: {SOLVER_DOWN}")
    assert health["seconds_since_proper_step"] >= 10
    assert scalar(await metrics_of(runtime), "ems_seconds_since_proper_step") >= 10


async def test_step_errors_stop_with_one_line_and_health_clears(
    site: Start, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=RUNTIME_LOG)
    solver, clock = FailingSolver(), ShiftedClock()
    runtime, _ = await site(solver, clock)
    await wait_until(lambda: runtime.counters.step_errors >= 2, 10, "step errors")

    solver.failing = False
    failed_until = clock()
    await wait_until(
        lambda: (runtime.counters.last_proper_step_at or failed_until) > failed_until,
        10,
        "a proper step once the solver works",
    )
    assert runtime.counters.erroring  # not yet: the errors must keep quiet a while
    clock.offset += timedelta(seconds=ERRORS_QUIET_S + 1)
    await wait_until(lambda: not runtime.counters.erroring, 10, "the errors count as stopped")

    stopped = [
        r.getMessage()
        for r in caplog.records
        if r.name == RUNTIME_LOG and "controller errors stopped" in r.getMessage()
    ]
    assert len(stopped) == 1
    assert stopped[0].endswith(f"({runtime.counters.step_errors} in all)")
    assert len(error_lines(caplog)) == 1
    # the clock jumped ERRORS_QUIET_S ahead: health is clear from the next step on
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        _, health = await get_json(runtime, "/api/health")
        stepping = [p for p in health["problems"] if "control step" in p]
        if not stepping or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.1)
    assert not stepping
    _, document = await get_json(runtime, "/api/status")
    assert document["allocation"]["status"] == "optimal"
    assert document["controller"]["last_step_fault"] is None


async def test_an_optimizer_fallback_is_counted_and_fails_health(site: Start) -> None:
    solver = InfeasibleSolver()
    runtime, _ = await site(solver)

    await wait_until(lambda: runtime.counters.fallback_steps >= 2, 10, "two fallback steps")

    status, health = await get_json(runtime, "/api/health")
    assert status == 503
    assert (
        "last control step not proper: the optimizer used its safe fallback"
        " (fallback_infeasible)" in health["problems"]
    )
    assert health["step_errors"] == 0
    metrics = await metrics_of(runtime)
    assert scalar(metrics, "ems_optimizer_fallback_steps") >= 2
    assert scalar(metrics, "ems_step_errors") == 0
    _, document = await get_json(runtime, "/api/status")
    assert document["allocation"]["status"] == "fallback_infeasible"
    assert document["controller"]["last_fallback_status"] == "fallback_infeasible"
    assert document["controller"]["last_fallback_at"] is not None
    # The steps before the EV came had nothing to solve: those were proper.
    assert document["controller"]["last_proper_step_at"] is not None
    assert document["counters"]["fallback_steps"] <= solver.calls


async def test_a_normal_run_is_healthy_and_shows_bounds(site: Start) -> None:
    runtime, sim = await site()
    assert sim is not None

    def settled(document: dict[str, Any]) -> bool:
        cp2 = next(c for c in document["connectors"] if c["key"] == "CP2/1")
        return (
            document["allocation"] is not None
            and document["allocation"]["status"] == "optimal"
            and cp2["bound_source"] == "its session profile"
            and cp2["drawn_a"]["L2"] == 12.0
        )

    document: dict[str, Any] = {}

    async def poll() -> bool:
        nonlocal document
        document = (await get_json(runtime, "/api/status"))[1]
        return settled(document)

    for _ in range(100):
        if await poll():
            break
        await asyncio.sleep(0.1)
    assert settled(document), (document["allocation"], document["connectors"])

    connectors = {c["key"]: c for c in document["connectors"]}
    cp2 = connectors["CP2/1"]
    assert cp2["bound_proven"] is True
    assert cp2["bound_a"] == pytest.approx(sim.limit_a(1))
    # CP1 never connected: no default of its is confirmed.
    cp1 = connectors["CP1/1"]
    assert cp1["bound_a"] == 16.0
    assert cp1["bound_source"] == "its hardware maximum: nothing confirmed holds it below that yet"
    assert cp1["bound_proven"] is False
    assert [u["key"] for u in document["controller"]["unproven"]] == ["CP1/1"]
    assert document["controller"]["last_step_fault"] is None
    assert document["counters"]["step_errors"] == 0

    status, health = await get_json(runtime, "/api/health")
    assert (status, health["problems"]) == (200, [])
    assert health["unproven"] == ["CP1/1"]

    metrics = await metrics_of(runtime)
    assert scalar(metrics, "ems_step_errors") == 0
    assert scalar(metrics, "ems_optimizer_fallback_steps") == 0
    assert scalar(metrics, "ems_connectors_unproven") == 1
    assert scalar(metrics, "ems_raises_held") == 0
    assert 0 <= scalar(metrics, "ems_seconds_since_proper_step") < 30
    assert scalar(metrics, "ems_healthy") == 1
    bounds = values(metrics["ems_connector_bound_amperes"])
    assert bounds[("CP1/1",)] == 16.0
    assert 12.0 <= bounds[("CP2/1",)] < 32.0
    assert values(metrics["ems_connector_bound_proven"]) == {("CP1/1",): 0, ("CP2/1",): 1}


async def test_connectors_unproven_past_the_grace_period_fail_health(site: Start) -> None:
    clock = ShiftedClock()
    runtime, _ = await site(clock=clock, charging=False)
    await wait_until(lambda: runtime.counters.last_proper_step_at is not None, 10, "a step")

    status, health = await get_json(runtime, "/api/health")
    assert health["unproven"] == ["CP1/1", "CP2/1"]
    assert not [p for p in health["problems"] if "unproven" in p]

    clock.offset += timedelta(seconds=UNPROVEN_GRACE_S + 1)
    status, health = await get_json(runtime, "/api/health")

    assert status == 503
    assert (
        "unproven for more than 60 s (counted at their hardware maximum, no profile"
        " confirmed): CP1/1, CP2/1" in health["problems"]
    )
