"""An operator chooses the charging mode of a running session through the API of the
running site: a simulated OCPP charger, the real controller, HTTP with the token. The site
imports all the time (its virtual meter reads the worst base load), so a session put on
`solar` has no surplus to charge from and pauses; back on its charger's mode it charges."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.files.app_config import load_app_config
from adapters.ocpp.sim import SimulatedCharger, SimulatedEV
from adapters.runtime import SiteRuntime
from tests.adapters.runtime.test_status_view import connect, roomy_site
from tests.e2e.rig import wait_until

TOKEN = "operator-token-for-tests"


@pytest.fixture
async def chargers() -> AsyncIterator[list[SimulatedCharger]]:
    made: list[SimulatedCharger] = []
    yield made
    for sim in made:
        await sim.stop()


async def choose(runtime: SiteRuntime, mode: str | None) -> tuple[int, Any]:
    url = f"http://127.0.0.1:{runtime.http_port}/api/chargers/CP2/connectors/1/mode"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, json={"mode": mode}, headers=headers) as response,
    ):
        return response.status, await response.json()


def shown(runtime: SiteRuntime) -> tuple[str, str]:
    """CP2/1's charging mode and state as the status shows them."""
    connector = next(c for c in runtime.status.snapshot().connectors if c.key == "CP2/1")
    return connector.charging_mode, connector.state


async def test_a_session_put_on_solar_without_surplus_pauses_until_cleared(
    tmp_path: Path, chargers: list[SimulatedCharger]
) -> None:
    runtime = SiteRuntime(load_app_config(roomy_site(tmp_path)))
    await runtime.start()
    try:
        cp2 = await connect(chargers, runtime, "CP2")
        no_session = await choose(runtime, "solar")
        await cp2.plug_in(1, SimulatedEV(max_current_a=12, charger_phases=(1,)))
        await wait_until(lambda: shown(runtime) == ("planned", "charging"), 15, "CP2 charging")

        chosen = await choose(runtime, "solar")
        await wait_until(lambda: shown(runtime) == ("solar", "paused"), 15, "CP2 paused")
        cleared = await choose(runtime, None)
        await wait_until(lambda: shown(runtime) == ("planned", "charging"), 15, "CP2 again")
    finally:
        await runtime.stop()

    assert no_session[0] == 409
    assert chosen[0] == 200
    assert chosen[1]["charging_mode"] == "solar"
    assert cleared == (200, {**chosen[1], "charging_mode": None})
