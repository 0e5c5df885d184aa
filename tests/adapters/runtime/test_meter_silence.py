"""A site meter that stops answering, through a real Modbus TCP meter: polls that time
out are silence, not a fault. The controller stays in normal mode on its last reading
until that is `meter_stale_s` old, then turns conservative, and trusts the meter again
once it answers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

from adapters.files.app_config import load_app_config
from adapters.modbus.faults import FaultKind, FaultWindow
from adapters.modbus.profile import LoadProfile
from adapters.modbus.register_map import load_map
from adapters.modbus.simulator import MeterSimulator
from adapters.runtime import SiteRuntime
from ems.meter_watch import Mode
from tests.adapters.runtime.site import METER_TOML, SITE_TOML
from tests.e2e.rig import wait_until

STALE_S = 3.0
SILENT_FROM_S = 1000.0
"""Where the simulated meter's silence starts, in its own time: the test moves its clock
there and back."""

RECONNECT_TOML = "reconnect_min_s = 0.2\nreconnect_max_s = 0.4\n"


async def test_a_silent_meter_is_trusted_until_its_last_reading_is_stale(tmp_path: Path) -> None:
    shift = [0.0]
    simulator = MeterSimulator(
        load_map("sdm630"),
        LoadProfile.constant((5.0, 5.0, 5.0)),
        faults=[FaultWindow(FaultKind.SILENCE, SILENT_FROM_S, 2 * SILENT_FROM_S)],
        clock=lambda: time.monotonic() + shift[0],
    )
    async with simulator:
        site_toml = SITE_TOML.format(ocpp_port=0).replace(
            "[control]\n", f"[control]\nmeter_stale_s = {STALE_S:g}\n"
        )
        site = tmp_path / "site.toml"
        meter_toml = METER_TOML.format(port=simulator.port) + RECONNECT_TOML
        site.write_text(site_toml + meter_toml, encoding="utf-8")
        runtime = SiteRuntime(load_app_config(site))
        await runtime.start()
        try:
            await wait_until(lambda: runtime.view().mode is Mode.NORMAL, 10, "a trusted meter")
            errors_before = runtime.counters.meter_errors
            silent_at = time.monotonic()
            shift[0] = SILENT_FROM_S
            modes: list[Mode] = []
            while time.monotonic() - silent_at < STALE_S / 2:
                modes.append(runtime.view().mode)
                await asyncio.sleep(0.05)
            failed = runtime.counters.meter_errors - errors_before
            silent_health = await _health(runtime)
            await wait_until(
                lambda: runtime.view().mode is Mode.CONSERVATIVE, 3 * STALE_S, "a stale meter"
            )
            stale_after_s = time.monotonic() - silent_at
            reason = runtime.view().mode_reason
            stale_health = await _health(runtime)
            shift[0] = 3 * SILENT_FROM_S
            await wait_until(lambda: runtime.view().mode is Mode.NORMAL, 10, "the meter back")
        finally:
            await runtime.stop()

    assert failed >= 2, "the meter should have timed out on several polls"
    assert set(modes) == {Mode.NORMAL}, modes
    assert stale_after_s >= STALE_S - 0.5, stale_after_s
    assert "stale" in reason, reason
    assert silent_health == (200, [])
    assert stale_health[0] == 503
    assert any(p.startswith("meter stale") for p in stale_health[1]), stale_health


async def _health(runtime: SiteRuntime) -> tuple[int, list[str]]:
    url = f"http://127.0.0.1:{runtime.http_port}/api/health"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, (await response.json())["problems"]
