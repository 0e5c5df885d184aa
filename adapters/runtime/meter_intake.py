"""Meter readings on their way to the controller: counted, logged when health changes,
and kept for the status page.

A meter that fails is logged once per kind of failure, not once per poll: a warning when
its readings turn invalid or fail for another kind of reason, a line when they are valid
again. The failed reads themselves are the reader's debug lines."""

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
        reading = polled.reading
        before = self.latest.get(reading.meter_id)
        self.latest[reading.meter_id] = polled
        if not reading.valid:
            self._counters.meter_errors += 1
        if _changed(before, polled):
            _log_change(polled, before)
        self._forward(reading)

    def reading(self, meter_id: str | None) -> MeterReading | None:
        polled = self.latest.get(meter_id) if meter_id is not None else None
        return None if polled is None else polled.reading

    def health(self, meter_id: str | None) -> MeterHealth | None:
        polled = self.latest.get(meter_id) if meter_id is not None else None
        return None if polled is None else polled.health


def _changed(before: PolledReading | None, now: PolledReading) -> bool:
    """The first reading, a turn between valid and invalid, or another kind of failure."""
    if before is None:
        return True
    return before.health.valid != now.health.valid or before.health.cause != now.health.cause


def _log_change(polled: PolledReading, before: PolledReading | None) -> None:
    reading = polled.reading
    if not reading.valid:
        LOG.warning(
            "meter %s: reading invalid: %s (%d failure(s) in a row)",
            reading.meter_id,
            reading.reason or "no reason given",
            polled.health.consecutive_failures,
        )
    elif before is None:
        LOG.info("meter %s: first valid reading", reading.meter_id)
    else:
        LOG.info(
            "meter %s: valid again after %d invalid reading(s)",
            reading.meter_id,
            before.health.consecutive_failures,
        )
