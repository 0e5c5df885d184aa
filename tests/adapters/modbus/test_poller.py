"""Health on every reading, several meters from one config, and the virtual meter."""

from __future__ import annotations

import asyncio
import contextlib
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
from ems.events import MeterReading
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


class AnswerOnStop:
    """A meter source that, like pymodbus on Python 3.11 when a stop arrives in the same
    turn as the answer (`asyncio.wait_for`), returns its reading and loses the stop."""

    def __init__(self, settings: MeterSettings) -> None:
        self.inner = VirtualMeter(settings)
        self.reads = 0
        self.second_read = asyncio.Event()
        self.closed = False

    async def read(self) -> MeterReading:
        self.reads += 1
        if self.reads == 2:
            self.second_read.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.05)
        return await self.inner.read()

    async def close(self) -> None:
        self.closed = True


async def test_a_poll_loop_stops_though_its_client_swallowed_the_stop() -> None:
    settings = MeterSettings(id="grid", map="virtual", current_a=(5.0, 5.0, 5.0), interval_s=0.01)
    source = AnswerOnStop(settings)
    seen: list[PolledReading] = []
    task = asyncio.create_task(MeterPoller(settings, source).run(seen.append))
    await asyncio.wait_for(source.second_read.wait(), 5.0)
    task.cancel()  # arrives while the source waits for its answer
    done, _ = await asyncio.wait([task], timeout=5.0)
    assert task in done, "the poll loop went on polling after it was cancelled"
    assert task.cancelled()
    assert source.closed
    reads = source.reads
    await asyncio.sleep(0.1)
    assert source.reads == reads
    assert len(seen) == 1, "the reading that came with the stop is not handed on"
