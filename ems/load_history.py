"""What the site imported besides our chargers, per quarter hour of the last eight days,
and the persistence forecast of the building's load made of it.

Energy managers without a model of the building forecast its load by persistence (as
OpenEMS's "persistence model" does): the load at a time of day is what it was at the same
time a week ago, else a day ago. A slot is a clock-aligned quarter hour (slot index =
floor(epoch seconds / 900)); its value is the time-weighted mean import over the part of
it readings covered. A reading's power holds until the next reading, but not across a
gap longer than a slot: nothing is known there, and nothing is counted. A slot is kept
once it is over, for eight days: a week back for the forecast, and a day to spare.

The import is the site meter's less our chargers behind it: PV behind the meter is in it.
It forecasts money only, never a limit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ems.windows import window_of, window_parts
from optimizer.problem import PowerPeriod

SLOT_S = 900
"""A slot's length: the quarter hour capacity tariffs and meters count in."""
DAY_SLOTS = 86_400 // SLOT_S
WEEK_SLOTS = 7 * DAY_SLOTS
KEPT_SLOTS = 8 * DAY_SLOTS

Slots = tuple[tuple[int, float], ...]
"""(slot index, mean import in W) pairs, in slot order."""


@dataclass
class LoadHistory:
    """The mean import besides our chargers (W, negative while exporting) of each
    completed slot of the last `KEPT_SLOTS`."""

    _means: dict[int, float] = field(default_factory=dict)
    _kept_from: int | None = None
    """No slot in `_means` is older than this (None: not known)."""
    _snapshot: Slots | None = ()
    """The completed slots in order; None once `_means` changed since it was taken."""
    _open: int | None = None
    """The slot the readings fall in now, counted into `_energy_ws` over `_covered_s`."""
    _energy_ws: float = 0.0
    _covered_s: float = 0.0
    _last: tuple[float, float] | None = None
    """The last reading: (epoch seconds, W)."""

    @property
    def slots(self) -> Slots:
        """The completed slots, for keeping across a restart. The same tuple until a slot
        closes: reading it every control step costs nothing."""
        if self._snapshot is None:
            self._snapshot = tuple(sorted(self._means.items()))
        return self._snapshot

    def observe(self, at: datetime, import_w: float) -> None:
        """A reading of the import besides our chargers (W) at `at`; a non-finite one, or
        one not after the last, is ignored."""
        if not math.isfinite(import_w):
            return
        at_s = at.timestamp()
        if self._last is not None:
            last_s, last_w = self._last
            if at_s <= last_s:
                return
            if at_s - last_s <= SLOT_S:
                self._hold(last_s, at_s, last_w)
        self._last = (at_s, import_w)
        self._enter(window_of(at_s, SLOT_S))

    def recall(self, slots: Iterable[tuple[int, float]]) -> None:
        """Slots remembered from before a restart, for those not known since (non-finite
        values are ignored)."""
        for slot, mean_w in slots:
            if math.isfinite(mean_w) and slot != self._open:
                self._means.setdefault(slot, mean_w)
        if self._means:
            self._kept_from = None  # a remembered slot may be older than any kept
            self._keep_until(max(self._means))

    def forecast(self, now: datetime, until: datetime) -> tuple[PowerPeriod, ...]:
        """The import expected in each slot from the start of `now`'s one to `until`: its
        value a week before, else a day before. A slot for which neither is known is
        left out (the slot before it holds on); () when none is known."""
        first = window_of(now.timestamp(), SLOT_S)
        # a slot a week or more ahead has no completed slot a week before it
        end = min(math.ceil(until.timestamp() / SLOT_S), first + WEEK_SLOTS)
        periods: list[PowerPeriod] = []
        for slot in range(first, end):
            mean_w = self._means.get(slot - WEEK_SLOTS)
            if mean_w is None:
                mean_w = self._means.get(slot - DAY_SLOTS)
            if mean_w is not None:
                periods.append(PowerPeriod(datetime.fromtimestamp(slot * SLOT_S, UTC), mean_w))
        return tuple(periods)

    def _hold(self, since_s: float, until_s: float, power_w: float) -> None:
        """Count `power_w` from `since_s` to `until_s` into the slots they span."""
        for slot, part_s in window_parts(since_s, until_s, SLOT_S):
            self._enter(slot)
            self._energy_ws += power_w * part_s
            self._covered_s += part_s

    def _enter(self, slot: int) -> None:
        """Count into `slot` from now on, closing the one counted into before."""
        if slot == self._open:
            return
        if self._open is not None and self._covered_s > 0.0:
            self._means[self._open] = self._energy_ws / self._covered_s
            self._keep_until(self._open)
        self._open, self._energy_ws, self._covered_s = slot, 0.0, 0.0

    def _keep_until(self, newest: int) -> None:
        """Drop the slots older than `KEPT_SLOTS` before `newest`; the snapshot is taken
        again when next asked for. As slots close one after another only the few that
        expired since the last call are looked for, not all eight days of them (a replay
        closes a slot every step or so)."""
        oldest = newest - KEPT_SLOTS + 1
        kept_from = self._kept_from
        if kept_from is not None and kept_from <= oldest <= kept_from + len(self._means):
            for slot in range(kept_from, oldest):
                self._means.pop(slot, None)
        else:
            self._means = {slot: w for slot, w in self._means.items() if slot >= oldest}
        self._kept_from = oldest
        self._snapshot = None
