"""An operator chooses the charging mode of a running session through the API of the
running site: a simulated OCPP charger, the real controller, HTTP with the token. The site
imports all the time (its virtual meter reads the worst base load), so a session put on
`solar` has no surplus to charge from and pauses; back on its charger's mode it charges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from adapters.files.app_config import load_app_config
from adapters.ocpp.sim import SimulatedCharger, SimulatedEV
from adapters.runtime import SiteRuntime
from tests.adapters.runtime.test_status_view import connect, roomy_site
from tests.e2e.rig import wait_until

TOKEN = "operator-token-for-tests"


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


async def test_a_chosen_mode_survives_a_restart_of_the_controller(
    tmp_path: Path, chargers: list[SimulatedCharger]
) -> None:
    config = load_app_config(roomy_site(tmp_path))
    first = SiteRuntime(config)
    await first.start()
    try:
        cp2 = await connect(chargers, first, "CP2")
        await cp2.plug_in(1, SimulatedEV(max_current_a=12, charger_phases=(1,)))
        await wait_until(lambda: shown(first) == ("planned", "charging"), 15, "CP2 charging")
        assert (await choose(first, "solar"))[0] == 200
        await wait_until(lambda: shown(first) == ("solar", "paused"), 15, "CP2 paused")
    finally:
        await first.stop()

    second = SiteRuntime(config)
    await second.start()
    try:
        # before CP2 is back: the session and its mode come from the store
        await wait_until(lambda: shown(second)[0] == "solar", 15, "CP2/1 in solar after restart")
    finally:
        await second.stop()


async def test_an_id_tokens_mode_is_its_sessions_default(
    tmp_path: Path, chargers: list[SimulatedCharger]
) -> None:
    path = roomy_site(tmp_path)
    path.write_text(path.read_text() + '\n[id_token_modes]\nSUNNY = "solar"\n')
    runtime = SiteRuntime(load_app_config(path))
    await runtime.start()
    try:
        cp2 = await connect(chargers, runtime, "CP2")
        await cp2.plug_in(1, SimulatedEV(max_current_a=12, charger_phases=(1,)), id_tag="SUNNY")
        await wait_until(lambda: shown(runtime) == ("solar", "paused"), 15, "CP2 paused on solar")
        chosen = await choose(runtime, "fast")
        await wait_until(lambda: shown(runtime) == ("fast", "charging"), 15, "CP2 charging fast")
    finally:
        await runtime.stop()
    assert chosen[0] == 200
