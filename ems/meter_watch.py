"""Whether the site meter can be trusted: age, validity, plausibility, recovery.

The controller runs in normal mode only while the meter is trusted. A reading that is
wrong (marked invalid, NaN or a missing phase, beyond `meter_max_factor` × the site
limit) turns it conservative at once; a meter silent for longer than `meter_stale_s`
turns it conservative too. A read that got no answer (a timeout, no connection) is
silence, not a wrong answer: one lost poll on a busy gateway does not cost the site its
capacity, a meter gone for `meter_stale_s` does (the worst configured base load is
assumed). After a fault it takes `meter_recover_readings` good readings in a
row to trust the meter again; at start-up, before any fault, one good reading is enough.
A meter that disagrees with what the controller knows (`ems.meter_agreement`) is
distrusted the same way, reading by reading while it disagrees.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from ems.events import MeterReading
from ems.phases import ZERO, larger
from optimizer.problem import Phase, PhaseTriple

SHORT_READINGS = 2
"""Readings in a row short of our chargers' draw before a meter is distrusted: one may
straddle a change the chargers have not reported yet."""


class Mode(StrEnum):
    NORMAL = "normal"
    CONSERVATIVE = "conservative"


@dataclass(frozen=True)
class Step:
    """A change of one connector's reported draw on a phase, between two samples, or of
    several connectors' joined (`ems.meter_agreement._note`): the meter must show it."""

    key: str
    """The connector's key; joined, their keys with `+` between."""
    phase: Phase
    change_a: float
    before: datetime
    after: datetime
    arrival: bool = False
    """A newly plugged-in EV's first draw: when it started is known only roughly, so the
    meter not showing it holds raises back but is no proof of a fault."""


@dataclass
class Agreement:
    """What the agreement checks remember between readings."""

    short_streak: int = 0
    steps: list[Step] = field(default_factory=list)
    unfollowed: str | None = None
    """Why the meter is distrusted until it shows a change of ours again; None if not."""
    disagreed_at: datetime | None = None
    """The reading it last disagreed on."""
    past: list[Step] = field(default_factory=list)
    """Changes of ours no longer judged — settled, or too small to judge alone — kept
    `STEP_WINDOWS` follow windows long to count beside the ones still judged."""
    unshown: list[Step] = field(default_factory=list)
    """Changes of ours the meter did not show in time but that prove no fault (an
    arrival, a change among others, the follow check off): no raise rests on the meter
    until it shows one of them late or a later change of ours."""
    gauging: list[Step] = field(default_factory=list)
    """Changes of ours the meter showed, to measure once their follow window has passed."""
    gains: dict[Phase, deque[tuple[float, float]]] = field(default_factory=dict)
    """Per phase, the newest changes of ours the meter showed: (ours, the meter's move)."""
    regained: str | None = None
    """How the meter last regained trust after a disagreement (for the operator's log)."""


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
    history: deque[tuple[datetime, PhaseTriple]] = field(default_factory=deque)
    """The good readings' currents of the last `history_s`, oldest first."""
    history_s: float = 60.0
    agreement: Agreement = field(default_factory=Agreement)
    bases: deque[tuple[datetime, PhaseTriple]] = field(default_factory=deque)
    """The base loads measured off the recent good readings, oldest first."""

    def observe(self, reading: MeterReading) -> None:
        if reading.silent:  # no answer: the last good reading ages towards `stale_s`
            return
        if self.last_good is not None and reading.at < self.last_good.at:
            return
        problem = self._problem(reading)
        if problem is not None:
            self._fault(problem)
            return
        self.last_good = reading
        self._remember(reading)
        self.good_streak += 1
        needed = self.recover_readings if self.faulted else 1
        if self.conservative and self.good_streak >= needed:
            self.conservative = False
            regained = self.agreement.regained
            self.reason = "site meter trusted" + (f" again: {regained}" if regained else "")

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

    def distrust(self, reason: str) -> None:
        """The last reading disagrees with what the controller knows: not trusted, and it
        takes `recover_readings` agreeing ones to trust the meter again."""
        self._fault(reason)

    def note_base(self, at: datetime, base_a: PhaseTriple, keep_s: float) -> None:
        """Remember the base load measured off the reading taken `at` (replacing what was
        measured off it before, with fewer samples in), for `keep_s`."""
        if self.bases and self.bases[-1][0] == at:
            self.bases.pop()
        self.bases.append((at, base_a))
        while self.bases and (at - self.bases[0][0]).total_seconds() > keep_s:
            self.bases.popleft()

    def held_base(self, now: datetime, keep_s: float) -> PhaseTriple:
        """On each phase the highest base load measured in the last `keep_s` (the newest
        reading's whatever its age): a fall counts only once it has held that long."""
        held = ZERO
        for index, (at, base) in enumerate(self.bases):
            if index == len(self.bases) - 1 or (now - at).total_seconds() <= keep_s:
                held = larger(held, base)
        return held

    def reading_at_or_before(self, moment: datetime) -> tuple[datetime, PhaseTriple] | None:
        """The newest good reading taken at or before `moment`, if still remembered."""
        found = None
        for entry in self.history:
            if entry[0] > moment:
                break
            found = entry
        return found

    def unchanged_since(self, moment: datetime, current: PhaseTriple) -> bool:
        """Whether every good reading from the one at or before `moment` on, and
        `current`, read exactly the same currents: what a frozen meter serves."""
        base = self.reading_at_or_before(moment)
        if base is None:
            return False
        return all(c == base[1] for at, c in self.history if at >= base[0]) and current == base[1]

    def _remember(self, reading: MeterReading) -> None:
        current = self.current_a
        assert current is not None
        self.history.append((reading.at, current))
        horizon = reading.at - timedelta(seconds=self.history_s)
        while self.history and self.history[0][0] < horizon:
            self.history.popleft()

    def _fault(self, reason: str) -> None:
        self.conservative = True
        self.faulted = True
        self.good_streak = 0
        self.reason = reason
        self.agreement.regained = None

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
