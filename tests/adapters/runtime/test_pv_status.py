"""A PV inverter beside the site meter (`role = "pv"`): read over Modbus TCP from our
simulator, never taken for the site meter, and its production and the part of it the site
uses shown by the running site."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.files.app_config import VIRTUAL_METER_ID, load_app_config
from adapters.modbus.profile import LoadProfile
from adapters.modbus.register_map import load_map
from adapters.modbus.simulator import MeterSimulator
from adapters.runtime import SiteRuntime
from tests.adapters.runtime.test_status_view import roomy_site
from tests.e2e.rig import wait_until

PV_METER = """
[[meters]]
id = "roof"
map = "sunspec_inverter"
host = "127.0.0.1"
port = {port}
role = "pv"
"""


async def test_the_site_shows_what_its_pv_produces(tmp_path: Path) -> None:
    producing = LoadProfile.constant((10.0, 10.0, 10.0))  # 6.9 kW at 230 V
    async with MeterSimulator(load_map("sunspec_inverter"), producing, sunspec_model=103) as sim:
        path = roomy_site(tmp_path)
        path.write_text(path.read_text() + PV_METER.format(port=sim.port))
        config = load_app_config(path)
        runtime = SiteRuntime(config)
        await runtime.start()
        try:
            await wait_until(
                lambda: runtime.status.snapshot().site.pv_power_w is not None, 15, "a PV reading"
            )
            site = runtime.status.snapshot().site
        finally:
            await runtime.stop()

    assert config.site_meter is not None
    assert config.site_meter.id == VIRTUAL_METER_ID  # the inverter is no site meter
    assert site.pv_power_w == pytest.approx(6900.0, rel=0.01)
    # the virtual site meter reads the worst base load, an import: nothing is exported
    assert site.export_w == 0.0
    assert site.self_consumption_w == pytest.approx(6900.0, rel=0.01)
