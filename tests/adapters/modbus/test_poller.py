"""Health on every reading, several meters from one config, and the virtual meter."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.modbus.config import MeterSettings
from adapters.modbus.poller import MeterPoller, PolledReading, open_meter, poll_meters
from adapters.modbus.profile import LoadProfile
from adapters.modbus.reader import ModbusMeterReader
from adapters.modbus.register_map import load_map
from adapters.modbus.simulator import MeterSimulator
from adapters.modbus.virtual import VirtualMeter
from tests.adapters.modbus.support import ManualClock, settings_for


async def test_health_tracks_age_failures_and_staleness() -> None:
    clock = ManualClock()
    simulator = MeterSimulator(
        load_map("sdm630"), LoadProfile.constant((8.0, 8.0, 8.0)), clock=clock.monotonic
    )
    await simulator.start()
    settings = settings_for(simulator.port, stale_after_s=3.0)
    poller = MeterPoller(settings, ModbusMeterReader(settings, clock=clock.utc), clock=clock.utc)
    try:
        first = await poller.poll()
        await simulator.stop()
        clock.advance(2.0)
        second = await poller.poll()
        clock.advance(2.0)
        third = await poller.poll()
    finally:
        await poller.source.close()
        await simulator.stop()

    assert first.health.valid
    assert first.health.age_s == 0.0
    assert not first.health.stale
    assert not second.health.valid
    assert second.health.consecutive_failures == 1
    assert second.health.age_s == 2.0
    assert not second.health.stale
    assert third.health.consecutive_failures == 2
    assert third.health.stale
    assert third.reading.current_a == (None, None, None)


async def test_several_meters_from_one_config() -> None:
    profile = LoadProfile.constant((5.0, 5.0, 5.0))
    async with (
        MeterSimulator(load_map("sdm630"), profile) as site,
        MeterSimulator(load_map("em340"), profile) as garage,
    ):
        meters = [
            settings_for(site.port, interval_s=0.05, timeout_s=0.05),
            settings_for(
                garage.port, "em340", id="garage", circuit="garage", interval_s=0.05, timeout_s=0.05
            ),
            MeterSettings(
                id="base",
                map="virtual",
                circuit="office",
                current_a=(1.0, 2.0, 3.0),
                interval_s=0.05,
            ),
        ]
        seen: dict[str, list[PolledReading]] = defaultdict(list)
        enough = asyncio.Event()

        def sink(polled: PolledReading) -> None:
            seen[polled.reading.meter_id].append(polled)
            if len(seen) == 3 and all(len(v) >= 3 for v in seen.values()):
                enough.set()

        task = asyncio.create_task(poll_meters(meters, sink))
        try:
            async with asyncio.timeout(10):
                await enough.wait()
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    for meter_id in ("grid", "garage", "base"):
        assert all(p.reading.valid for p in seen[meter_id]), seen[meter_id][-1].reading.reason
    assert seen["base"][0].reading.current_a == (1.0, 2.0, 3.0)
    assert seen["garage"][0].reading.current_a[0] == pytest.approx(5.0, abs=0.01)


async def test_virtual_meter_follows_its_schedule(tmp_path: Path) -> None:
    schedule = tmp_path / "base.csv"
    schedule.write_text("seconds,l1_a,l2_a,l3_a\n0,10,10,10\n600,20,0,5\n")
    clock = ManualClock()
    settings = MeterSettings(id="base", map="virtual", schedule=schedule)
    meter = open_meter(settings, clock=clock.utc)
    assert isinstance(meter, VirtualMeter)

    first = await meter.read()
    clock.advance(601)
    later = await meter.read()

    assert first.valid
    assert first.current_a == (10.0, 10.0, 10.0)
    assert later.current_a == (20.0, 0.0, 5.0)
    assert later.total_power_w == pytest.approx(25 * 230.0)
    assert later.at.tzinfo is not None


def test_virtual_meter_needs_a_load() -> None:
    with pytest.raises(ValueError, match="current_a or a schedule"):
        VirtualMeter(replace(MeterSettings(id="v", map="virtual")))
