"""The runtime through its real edges: a SQLite file, the OCPP central system with simulated
chargers, and the status server over HTTP. No site meter: the worst base load applies."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest
from websockets.asyncio.client import ClientConnection, connect

from adapters.files.app_config import load_app_config
from adapters.ocpp.sim import (
    OCPP16,
    OCPP201,
    InstalledProfile,
    SimChargerConfig,
    SimulatedCharger,
    SimulatedEV,
)
from adapters.runtime import SiteRuntime
from ems.commands import ProfilePurpose
from ems.view import ConnectorView
from tests.adapters.runtime.site import free_port, write_site
from tests.e2e.rig import wait_until


def tx_profiles(sim: SimulatedCharger) -> list[InstalledProfile]:
    return [p for p in sim.store.profiles if p.purpose is ProfilePurpose.TX]


async def next_call_error(websocket: ClientConnection) -> list[object]:
    """The next CALLERROR, past the server's own calls (the fallbacks it sends)."""
    async with asyncio.timeout(5):
        while True:
            frame = json.loads(await websocket.recv())
            if frame[0] == 4:
                return list(frame)


def connector(runtime: SiteRuntime, key: str) -> ConnectorView:
    return next(c for c in runtime.view().connectors if c.key == key)


async def start_charger(
    made: list[SimulatedCharger], runtime: SiteRuntime, charger_id: str, protocol: str, phases: int
) -> SimulatedCharger:
    config = SimChargerConfig(
        charger_id, protocol, number_phases=phases, meter_interval_s=0.5, heartbeat_interval_s=3600
    )
    sim = SimulatedCharger(config, runtime.ocpp_url)
    made.append(sim)
    await sim.start()
    return sim


async def commission(
    made: list[SimulatedCharger], runtime: SiteRuntime, charger_ids: tuple[str, ...]
) -> None:
    """The chargers connect, accept their default profiles and go away again: the
    controller counts each at its default from then on, not at its hardware maximum."""
    for charger_id in charger_ids:
        sim = await start_charger(made, runtime, charger_id, OCPP16, 1)
        await wait_until(
            lambda cid=charger_id: (
                connector(runtime, f"{cid}/1").bound_source == "its default profile"
            ),
            15,
            f"{charger_id} holding its default profile, its EV had time to follow",
        )
        await sim.stop()


async def test_a_restart_on_the_same_store_keeps_allocating_to_the_open_session(
    tmp_path: Path, chargers: list[SimulatedCharger]
) -> None:
    config = load_app_config(write_site(tmp_path, ocpp_port=free_port()))
    first = SiteRuntime(config, http=False)
    await first.start()
    try:
        sim = await start_charger(chargers, first, "CP1", OCPP16, 3)
        others = [await start_charger(chargers, first, cp, OCPP16, 1) for cp in ("CP2", "CP3")]
        await wait_until(
            lambda: all(connector(first, f"{cp}/1").bound_proven for cp in ("CP2", "CP3")),
            10,
            "CP2 and CP3 holding their default profiles",
        )
        transaction_id = await sim.plug_in(1, SimulatedEV(max_current_a=32))
        assert transaction_id is not None
        await wait_until(lambda: bool(tx_profiles(sim)), 10, "a TX profile before the restart")
        sent_before = tx_profiles(sim)[0]
        for other in others:  # they stay away after the restart, enforcing their defaults
            await other.stop()
    finally:
        await first.stop()

    second = SiteRuntime(config, http=False)
    await second.start()
    try:
        view = connector(second, "CP1/1")
        assert view.transaction_id == transaction_id
        for cp in ("CP2", "CP3"):
            # what they accepted, once their EVs had time to follow it
            await wait_until(
                lambda cp=cp: connector(second, f"{cp}/1").bound_source == "its default profile",
                10,
                f"{cp} counted at the default profile it accepted before the restart",
            )
            assert connector(second, f"{cp}/1").bound_a == pytest.approx(15.0)
        await wait_until(lambda: sim.connected and sim.booted.is_set(), 10, "CP1 back")
        await wait_until(
            lambda: tx_profiles(sim) and tx_profiles(sim)[0] != sent_before,
            10,
            "a fresh TX profile for the running transaction",
        )
        profile = tx_profiles(sim)[0]
        assert profile.transaction_id == transaction_id
        assert connector(second, "CP1/1").state == "charging"
        # 40 A less 10 A of worst base load less 15 A held on L2 and L3 for an EV arriving
        # at CP2 or CP3: the default profiles they accepted before the restart
        assert sim.limit_a(1) == pytest.approx(15.0)
    finally:
        await second.stop()


async def test_a_bad_frame_from_one_charger_leaves_the_others_allocated(
    tmp_path: Path, chargers: list[SimulatedCharger]
) -> None:
    runtime = SiteRuntime(load_app_config(write_site(tmp_path)), http=False)
    await runtime.start()
    try:
        one = await start_charger(chargers, runtime, "CP1", OCPP16, 3)
        two = await start_charger(chargers, runtime, "CP2", OCPP201, 1)
        # CP3 takes its default profile; later something speaking for CP3 sends garbage
        await commission(chargers, runtime, ("CP3",))
        await one.plug_in(1, SimulatedEV(max_current_a=16))
        await two.plug_in(1, SimulatedEV(max_current_a=12, charger_phases=(1,)))
        await wait_until(
            lambda: bool(tx_profiles(one)) and bool(tx_profiles(two)), 10, "both allocated"
        )
        await wait_until(lambda: all(any(sim.draw_a(1)) for sim in (one, two)), 10, "both draw")
        limits = (one.limit_a(1), two.limit_a(1))

        url = f"{runtime.ocpp_url}/CP3"
        async with connect(url, subprotocols=["ocpp1.6"]) as bad:  # type: ignore[list-item]
            await bad.send("[2, this is not json")
            await next_call_error(bad)
            await bad.send(json.dumps([2, "m1", "StatusNotification", {"connectorId": "x"}]))
            assert (await next_call_error(bad))[1] == "m1"

        steps = runtime.counters.solves
        await wait_until(lambda: runtime.counters.solves > steps + 2, 10, "control steps go on")
        assert (one.limit_a(1), two.limit_a(1)) == limits
        assert all(any(sim.draw_a(1)) for sim in (one, two))
    finally:
        await runtime.stop()


async def test_the_status_api_shows_the_live_state(
    tmp_path: Path, chargers: list[SimulatedCharger]
) -> None:
    runtime = SiteRuntime(load_app_config(write_site(tmp_path)))
    await runtime.start()
    try:
        await commission(chargers, runtime, ("CP1", "CP3"))
        sim = await start_charger(chargers, runtime, "CP2", OCPP201, 1)
        transaction_id = await sim.plug_in(1, SimulatedEV(max_current_a=12, charger_phases=(1,)))
        await wait_until(lambda: bool(tx_profiles(sim)), 10, "a TX profile")

        def drawn_l2() -> float | None:
            drawn = connector(runtime, "CP2/1").drawn_a
            return None if drawn is None else float(drawn[1])

        # 12 A fits what L2 leaves: 40 A less 10 A of base load less CP1's 15 A fallback
        await wait_until(lambda: drawn_l2() == 12.0, 10, "a sample of the EV at its 12 A")
        await wait_until(
            lambda: connector(runtime, "CP2/1").bound_source == "its session profile",
            10,
            "CP2 counted at the session profile it accepted, its EV having had time to follow",
        )
        url = f"http://127.0.0.1:{runtime.http_port}/api/status"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
            document = await response.json()
        site = document["site"]
        assert site["mode"] == "normal"
        assert site["meter"]["valid"] is True
        assert site["base_load_a"] == {"L1": 10.0, "L2": 10.0, "L3": 10.0}
        chargers_by_id = {c["id"]: c for c in document["chargers"]}
        connectors = {c["key"]: c for c in document["connectors"]}
        assert chargers_by_id["CP2"]["connected"] is True
        assert chargers_by_id["CP2"]["protocol"] == "ocpp2.0.1"
        assert chargers_by_id["CP1"]["connected"] is False
        cp2 = connectors["CP2/1"]
        assert cp2["state"] == "charging"
        assert cp2["session_id"] == transaction_id
        assert cp2["allowed_a"]["L2"] == pytest.approx(sim.limit_a(1))
        assert cp2["drawn_a"]["L2"] == pytest.approx(12.0)
        assert [s["id"] for s in document["sessions"]] == [transaction_id]
        counters = document["counters"]
        assert counters["profiles_sent"] >= 3
        assert counters["solves"] >= 1
    finally:
        await runtime.stop()
