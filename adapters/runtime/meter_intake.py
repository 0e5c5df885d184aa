"""Meter readings on their way to the controller: counted, logged when health changes,
and kept for the status page."""

from __future__ import annotations

import logging
from collections.abc import Callable

from adapters.modbus.poller import MeterHealth, PolledReading
from adapters.runtime.counters import RuntimeCounters
from ems.events import MeterReading

LOG = logging.getLogger(__name__)


class MeterIntake:
    """The sink of the meter pollers. Called on the event loop; never blocks."""

    def __init__(self, forward: Callable[[MeterReading], None], counters: RuntimeCounters) -> None:
        self._forward = forward
        self._counters = counters
        self.latest: dict[str, PolledReading] = {}
        """The last reading of every meter, with its health."""

    def __call__(self, polled: PolledReading) -> None:
        reading, health = polled.reading, polled.health
        before = self.latest.get(reading.meter_id)
        self.latest[reading.meter_id] = polled
        if not reading.valid:
            self._counters.meter_errors += 1
        if before is None or before.reading.valid != reading.valid:
            _log_change(reading, health, first=before is None)
        self._forward(reading)

    def reading(self, meter_id: str | None) -> MeterReading | None:
        polled = self.latest.get(meter_id) if meter_id is not None else None
        return None if polled is None else polled.reading

    def health(self, meter_id: str | None) -> MeterHealth | None:
        polled = self.latest.get(meter_id) if meter_id is not None else None
        return None if polled is None else polled.health


def _log_change(reading: MeterReading, health: MeterHealth, first: bool) -> None:
    if reading.valid:
        LOG.info(
            "meter %s: %s",
            reading.meter_id,
            "first valid reading" if first else "valid again",
        )
    else:
        LOG.warning(
            "meter %s: reading invalid: %s (%d failure(s) in a row)",
            reading.meter_id,
            reading.reason or "no reason given",
            health.consecutive_failures,
        )
