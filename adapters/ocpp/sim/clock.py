"""Clocks for the simulation: real, accelerated, or driven by hand in tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from adapters.clock import utc_now

Clock = Callable[[], datetime]
"""Returns the simulated now as an aware UTC datetime."""


class ScaledClock:
    """Real time sped up by `speed` from `start` (default: the real now)."""

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed
        self._start = start or utc_now()
        self._origin = time.monotonic()

    def __call__(self) -> datetime:
        elapsed = (time.monotonic() - self._origin) * self.speed
        return self._start + timedelta(seconds=elapsed)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now
