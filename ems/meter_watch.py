"""Whether the site meter can be trusted: age, validity, plausibility, recovery.

The controller runs in normal mode only while the meter is trusted. A reading that failed,
carries NaN or a missing phase, or is beyond `meter_max_factor` × the site limit, and a
meter silent for longer than `meter_stale_s`, turn it conservative (the worst configured
base load is assumed). After a fault it takes `meter_recover_readings` good readings in a
row to trust the meter again; at start-up, before any fault, one good reading is enough.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ems.events import MeterReading
from optimizer.problem import PhaseTriple


class Mode(StrEnum):
    NORMAL = "normal"
    CONSERVATIVE = "conservative"


@dataclass
class MeterWatch:
    stale_s: float
    recover_readings: int
    max_current_a: float
    last_good: MeterReading | None = None
    good_streak: int = 0
    faulted: bool = False
    conservative: bool = True
    reason: str = "no site meter reading yet"

    def observe(self, reading: MeterReading) -> None:
        if self.last_good is not None and reading.at < self.last_good.at:
            return
        problem = self._problem(reading)
        if problem is not None:
            self._fault(problem)
            return
        self.last_good = reading
        self.good_streak += 1
        needed = self.recover_readings if self.faulted else 1
        if self.conservative and self.good_streak >= needed:
            self.conservative = False
            self.reason = "site meter trusted"

    def check(self, now: datetime) -> None:
        """Turn conservative when the last good reading has grown stale."""
        age = self.age_s(now)
        if not self.conservative and age is not None and age > self.stale_s:
            self._fault(
                f"site meter stale: last good reading {age:.0f} s old (> {self.stale_s:g} s)"
            )

    @property
    def mode(self) -> Mode:
        return Mode.CONSERVATIVE if self.conservative else Mode.NORMAL

    @property
    def current_a(self) -> PhaseTriple | None:
        """The last good per-phase current, in site phases (a good reading has all three)."""
        if self.last_good is None:
            return None
        a, b, c = self.last_good.current_a
        return (a or 0.0, b or 0.0, c or 0.0)

    def age_s(self, now: datetime) -> float | None:
        if self.last_good is None:
            return None
        return (now - self.last_good.at).total_seconds()

    def _fault(self, reason: str) -> None:
        self.conservative = True
        self.faulted = True
        self.good_streak = 0
        self.reason = reason

    def _problem(self, reading: MeterReading) -> str | None:
        if not reading.valid:
            return f"site meter reading invalid: {reading.reason or 'no reason given'}"
        for name, value in zip(("L1", "L2", "L3"), reading.current_a, strict=True):
            if value is None or not math.isfinite(value):
                return f"site meter {name} current missing or not a number ({value})"
            if abs(value) > self.max_current_a:
                return (
                    f"site meter {name} current {value:g} A is implausible "
                    f"(> {self.max_current_a:g} A)"
                )
        return None
