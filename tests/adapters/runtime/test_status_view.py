"""What the status server shows of connectors without an EV, through the running site:
simulated chargers over OCPP, then the JSON API and /metrics over HTTP."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from adapters.files.app_config import load_app_config
from adapters.ocpp.sim import OCPP16, SimChargerConfig, SimulatedCharger, SimulatedEV
from adapters.runtime import SiteRuntime
from tests.adapters.runtime.site import free_port, write_site
from tests.e2e.rig import wait_until


def roomy_site(directory: Path, ocpp_port: int = 0) -> Path:
    """The runtime test site with an 80 A fuse: room on L2 for an EV at CP2 while the
    chargers that never connected are counted at their 32 A maximum."""
    path = write_site(directory, ocpp_port)
    path.write_text(path.read_text().replace("limit_a = 40", "limit_a = 80"))
    return path


async def connect(
    made: list[SimulatedCharger], runtime: SiteRuntime, charger_id: str
) -> SimulatedCharger:
    """A 1-phase OCPP 1.6 charger reporting its meter twice a second."""
    config = SimChargerConfig(
        charger_id, OCPP16, number_phases=1, meter_interval_s=0.5, heartbeat_interval_s=3600
    )
    sim = SimulatedCharger(config, runtime.ocpp_url)
    made.append(sim)
    await sim.start()
    return sim


async def fetch(runtime: SiteRuntime, path: str) -> str:
    url = f"http://127.0.0.1:{runtime.http_port}{path}"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        return await response.text()


async def connectors(runtime: SiteRuntime) -> dict[str, Any]:
    """The connectors of /api/connectors by key."""
    document = json.loads(await fetch(runtime, "/api/connectors"))
    return {c["key"]: c for c in document["connectors"]}


async def connector_series(runtime: SiteRuntime, key: str) -> dict[str, list[Sample]]:
    """The /metrics samples labelled with connector `key`, by family."""
    series: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(await fetch(runtime, "/metrics")):
        for sample in family.samples:
            if sample.labels.get("connector") == key:
                series.setdefault(family.name, []).append(sample)
    return series


def status_of(runtime: SiteRuntime, key: str) -> str | None:
    return next(c.status for c in runtime.status.snapshot().connectors if c.key == key)


def power_of(runtime: SiteRuntime, key: str) -> float | None:
    return next(c.power_w for c in runtime.status.snapshot().connectors if c.key == key)


def bound_source_of(runtime: SiteRuntime, key: str) -> str:
    return next(c.bound_source for c in runtime.view().connectors if c.key == key)


async def test_chargers_not_connected_since_the_start_show_offline(
    tmp_path: Path, chargers: list[SimulatedCharger]
) -> None:
    """After a restart the controller remembers CP3's default profile and status, so it
    sends CP3 nothing that a missing connection would answer; CP3 is offline all the same."""
    config = load_app_config(roomy_site(tmp_path, ocpp_port=free_port()))
    first = SiteRuntime(config, http=False)
    await first.start()
    try:
        cp3 = await connect(chargers, first, "CP3")
        await wait_until(
            lambda: bound_source_of(first, "CP3/1") == "its default profile", 15, "CP3 set up"
        )
        await cp3.stop()
    finally:
        await first.stop()
    runtime = SiteRuntime(config)
    await runtime.start()
    try:
        await connect(chargers, runtime, "CP2")
        await wait_until(lambda: status_of(runtime, "CP2/1") == "Available", 10, "CP2's status")
        steps = runtime.counters.solves
        await wait_until(lambda: runtime.counters.solves > steps + 2, 10, "control steps")

        shown = await connectors(runtime)
        states = (await connector_series(runtime, "CP3/1"))["ems_connector_state"]
    finally:
        await runtime.stop()

    assert {key: c["state"] for key, c in shown.items()} == {
        "CP1/1": "offline",
        "CP2/1": "idle",
        "CP3/1": "offline",
    }
    assert [s.labels["state"] for s in states if s.value == 1] == ["offline"]


async def leave(sim: SimulatedCharger, stop_lost: bool) -> None:
    """The EV leaves; with `stop_lost` its StopTransaction never reaches the controller
    (the charger forgot it), so only the status says the connector is free."""
    if not stop_lost:
        await sim.unplug(1)
        return
    connector = sim.connectors[1]
    connector.transaction = None
    connector.ev = None
    await sim.report_status(connector)


@pytest.mark.parametrize("stop_lost", [False, True], ids=["stopped", "stop-lost"])
async def test_a_connector_the_ev_left_shows_no_power(
    tmp_path: Path, chargers: list[SimulatedCharger], stop_lost: bool
) -> None:
    runtime = SiteRuntime(load_app_config(roomy_site(tmp_path)))
    await runtime.start()
    try:
        cp2 = await connect(chargers, runtime, "CP2")
        await ev_comes_and_goes(runtime, cp2, stop_lost)
        shown = (await connectors(runtime))["CP2/1"]
        series = await connector_series(runtime, "CP2/1")
    finally:
        await runtime.stop()

    assert shown["power_w"] in (None, 0.0)
    assert set(shown["drawn_a"].values()) <= {None, 0.0}
    assert {s.value for s in series.get("ems_connector_power_watts", [])} <= {0.0}
    assert {s.value for s in series.get("ems_connector_drawn_amperes", [])} <= {0.0}


async def ev_comes_and_goes(runtime: SiteRuntime, cp2: SimulatedCharger, stop_lost: bool) -> None:
    """An EV charges at CP2 at 12 A, shown in the API, then leaves."""
    await cp2.plug_in(1, SimulatedEV(max_current_a=12, charger_phases=(1,)))
    await wait_until(lambda: (power_of(runtime, "CP2/1") or 0) > 1000, 10, "CP2 drawing")
    # The controller's view (the drawn current) follows within a batch of events.
    for _ in range(100):
        charging = (await connectors(runtime))["CP2/1"]
        if (charging["drawn_a"]["L2"] or 0) > 5:
            break
        await asyncio.sleep(0.1)
    assert charging["drawn_a"]["L2"] > 5

    await leave(cp2, stop_lost)
    await wait_until(lambda: status_of(runtime, "CP2/1") == "Available", 10, "CP2 free")
