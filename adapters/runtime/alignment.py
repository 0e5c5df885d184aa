"""Chargers' samples lined up behind the site meter reading they belong with.

The controller takes base load as the site meter minus what our chargers drew at the
moment of the reading, and a charger sample taken after the reading cannot be taken off
it (the draw it shows may have begun later): such a sample counts as nothing, and the
whole of that charger's draw is then counted as base load. Chargers that report at the
same moment, just after a reading, would thus make the next step see the site as full
and pause every session. A sample newer than the last site reading is therefore held
back until a reading at least as new has gone to the controller, and for at most
`max_hold_s` (a charger whose clock runs ahead must not be held back forever).
"""

from __future__ import annotations

from datetime import datetime

from ems.events import MeterSample

MAX_HOLD_S = 2.0


class SampleAligner:
    def __init__(self, max_hold_s: float = MAX_HOLD_S) -> None:
        self._max_hold_s = max_hold_s
        self._reading_at: datetime | None = None
        self._held: list[tuple[float, MeterSample]] = []

    def hold(self, sample: MeterSample, now_s: float) -> bool:
        """Whether to hold `sample` (arriving at monotonic `now_s`) for a newer reading."""
        if self._reading_at is None or sample.at <= self._reading_at:
            return False
        self._held.append((now_s, sample))
        return True

    def reading(self, at: datetime | None, now_s: float) -> list[MeterSample]:
        """A site reading taken `at` went out (None: the reading failed, nothing to line
        up with): the held samples it covers, and those held too long, in arrival order."""
        self._reading_at = at
        return self.release(now_s)

    def release(self, now_s: float) -> list[MeterSample]:
        """The held samples the last reading covers, and those held too long."""
        due: list[MeterSample] = []
        kept: list[tuple[float, MeterSample]] = []
        for arrived_s, sample in self._held:
            if (
                self._reading_at is None
                or sample.at <= self._reading_at
                or now_s - arrived_s >= self._max_hold_s
            ):
                due.append(sample)
            else:
                kept.append((arrived_s, sample))
        self._held = kept
        return due
