"""Polling meters at their interval, with the health of every reading.

`poll_meters` runs one poller per configured meter (the site meter and one per
circuit) and hands each reading with its health to a sink; the runtime turns them into
controller events. A reading is produced every interval even while the meter is down
(invalid, with the reason), so the controller sees the outage as it lasts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from adapters.cancellation import raise_if_cancelled
from adapters.clock import Clock, utc_now
from adapters.modbus.config import MeterSettings
from adapters.modbus.failures import FailureKind, ReadFailure
from adapters.modbus.reader import ModbusMeterReader
from adapters.modbus.virtual import VirtualMeter
from ems.events import MeterReading


class MeterSource(Protocol):
    """Anything that reads a meter: the Modbus reader or the virtual meter."""

    meter_id: str
    last_failure: ReadFailure | None
    """Why the last reading was invalid (None when it was valid)."""

    async def read(self) -> MeterReading: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class MeterHealth:
    meter_id: str
    at: datetime
    valid: bool
    reason: str | None
    age_s: float | None
    """Seconds since the last valid reading; None when there has been none."""
    consecutive_failures: int
    stale: bool
    """No valid reading for longer than `stale_after_s` (or ever)."""
    cause: FailureKind | None
    """The kind of failure behind an invalid reading (see `ReadFailure.cause`); None when
    valid. Unlike `reason`, it does not change from one read of the same failure to the
    next (a reason quotes values and seconds)."""


@dataclass(frozen=True)
class PolledReading:
    reading: MeterReading
    health: MeterHealth


def open_meter(settings: MeterSettings, *, clock: Clock = utc_now) -> MeterSource:
    if settings.is_virtual:
        return VirtualMeter(settings, clock=clock)
    return ModbusMeterReader(settings, clock=clock)


class MeterPoller:
    def __init__(
        self, settings: MeterSettings, source: MeterSource, *, clock: Clock = utc_now
    ) -> None:
        self.settings = settings
        self.source = source
        self._clock = clock
        self._last_valid_at: datetime | None = None
        self._failures = 0

    async def poll(self) -> PolledReading:
        """Read once and judge the reading's health."""
        reading = await self.source.read()
        if reading.valid:
            self._last_valid_at = reading.at
            self._failures = 0
        else:
            self._failures += 1
        age_s = None
        if self._last_valid_at is not None:
            age_s = max((self._clock() - self._last_valid_at).total_seconds(), 0.0)
        failure = None if reading.valid else self.source.last_failure
        health = MeterHealth(
            meter_id=reading.meter_id,
            at=reading.at,
            valid=reading.valid,
            reason=reading.reason,
            age_s=age_s,
            consecutive_failures=self._failures,
            stale=age_s is None or age_s > self.settings.stale_after_s,
            cause=None if failure is None else failure.cause,
        )
        return PolledReading(reading, health)

    async def run(self, sink: Callable[[PolledReading], None]) -> None:
        """Poll every `interval_s` until cancelled; the source is closed on the way out.
        A poll that overruns the interval delays the next one instead of piling up."""
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        try:
            while True:
                polled = await self.poll()
                raise_if_cancelled()  # a stop the Modbus client's wait swallowed
                sink(polled)
                next_at = max(next_at + self.settings.interval_s, loop.time())
                await asyncio.sleep(next_at - loop.time())
        finally:
            await self.source.close()


async def poll_meters(
    meters: Iterable[MeterSettings],
    sink: Callable[[PolledReading], None],
    *,
    clock: Clock = utc_now,
) -> None:
    """Poll every meter concurrently until cancelled."""
    async with asyncio.TaskGroup() as group:
        for settings in meters:
            poller = MeterPoller(settings, open_meter(settings, clock=clock), clock=clock)
            group.create_task(poller.run(sink), name=f"meter {settings.id}")
