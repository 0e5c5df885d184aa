"""/api/health while the site meter answers but never with a valid reading: it says why
the readings are invalid, not that none came. The runtime with a real Modbus TCP meter."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from adapters.files.app_config import load_app_config
from adapters.modbus.faults import FaultKind, FaultWindow
from adapters.modbus.profile import LoadProfile
from adapters.modbus.register_map import load_map
from adapters.modbus.simulator import MeterSimulator
from adapters.runtime import SiteRuntime
from tests.adapters.runtime.site import METER_TOML, SITE_TOML
from tests.e2e.rig import wait_until


async def test_health_says_why_the_meter_readings_are_invalid(tmp_path: Path) -> None:
    never_available = FaultWindow(FaultKind.NAN, 0.0, 3600.0)
    simulator = MeterSimulator(
        load_map("sdm630"), LoadProfile.constant((5.0, 5.0, 5.0)), faults=[never_available]
    )
    async with simulator:
        site = tmp_path / "site.toml"
        site.write_text(
            SITE_TOML.format(ocpp_port=0) + METER_TOML.format(port=simulator.port),
            encoding="utf-8",
        )
        runtime = SiteRuntime(load_app_config(site))
        await runtime.start()
        try:
            await wait_until(
                lambda: runtime.counters.meter_errors >= 2, 10, "two invalid meter readings"
            )
            url = f"http://127.0.0.1:{runtime.http_port}/api/health"
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                status, health = response.status, await response.json()
        finally:
            await runtime.stop()

    assert status == 503
    assert "no meter reading yet" not in health["problems"]
    meter_problems = [p for p in health["problems"] if "meter" in p]
    assert len(meter_problems) == 1, health["problems"]
    assert meter_problems[0].startswith(
        "no valid meter reading yet: not available: voltage_l1 (nan), voltage_l2 (nan)"
    )
