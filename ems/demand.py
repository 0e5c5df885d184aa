"""The billing period's peak so far: the highest average import over fixed windows.

Capacity tariffs bill the highest 15-minute average import of a month. The windows are
aligned to the clock (a quarter hour starts at :00, :15, …, as meters count them); a
reading's power holds until the next reading. A window counts once it is over; a new
billing period starts from nothing.

The controller counts the site at its control ticks (`count_demand`), each interval between
two site readings as the import besides our chargers at its start plus what our chargers
drew over it (their samples as of its end), not the first reading held: a reading is taken
before the limits it leads to apply, so the one that sees the building's load step up
still shows the chargers' draw planned for the load before, and holding it over the
interval counts an import that never was. With a replay's 5-minute readings that raised
the peak so far by a third of the rise at every quarter hour the office's load rose, and
the plan, taking the raised peak as paid for, filled it: on `office-day-ahead` with every
session known from 07:00 (an ideal battery, one price all day, blocks of one step) the
peak crept from 90 to 110 kW, 97 kW counted this way. On `python -m benchmarks.cost` the
worst peak above offline's went from 16.5 % to 15.9 % (seeds 100, 12, and the shipped
scenarios) and from 23.7 % to 19.3 % (seeds 300, 20); two congested office days, short of
offline's energy either way, delivered 1 kWh less (of 294 and 547 kWh).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ems.net_import import ours_w
from ems.windows import window_of, window_parts

if TYPE_CHECKING:
    from ems.events import DemandRecalled
    from ems.state import SiteState

MAX_HOLD_S = 900.0
"""A reading's power is held for at most this long: across a longer gap nothing is known,
and nothing is counted."""


@dataclass
class DemandPeak:
    """`peak_w`: the highest completed window's average import in the billing period
    that starts at `period_start`."""

    window_s: float = 900.0
    period_start: datetime | None = None
    peak_w: float = 0.0
    _window: int | None = None
    _energy_ws: float = 0.0
    _last: tuple[datetime, float] | None = None
    pending: tuple[datetime, float] | None = None
    """The last site reading counted (`count_demand`): when, and the import besides our
    chargers it read (W). Its interval is counted once a later reading is in."""

    def observe(self, at: datetime, import_w: float, period_start: datetime) -> None:
        """A reading of the site's import (W, negative while exporting) at `at`, in the
        billing period starting at `period_start`."""
        if not math.isfinite(import_w):
            return
        if self._last is not None and at <= self._last[0]:
            return
        if period_start != self.period_start:
            self.period_start = period_start
            self.peak_w = 0.0
            self._window, self._energy_ws, self._last = None, 0.0, None
        if self._last is not None:
            self._hold(self._last[0], at, self._last[1])
        self._last = (at, import_w)
        if self._window is None:
            self._window = self._window_of(at)

    def recall(self, period_start: datetime, peak_w: float) -> None:
        """A peak remembered from before a restart, in the billing period starting at
        `period_start`: kept if that is the period counted now (or none is yet)."""
        if self.period_start is None:
            self.period_start = period_start
        if period_start == self.period_start:
            self.peak_w = max(self.peak_w, peak_w)

    def _window_of(self, moment: datetime) -> int:
        return window_of(moment.timestamp(), self.window_s)

    def _hold(self, since: datetime, until: datetime, power_w: float) -> None:
        """Count `power_w` from `since` to `until` into the windows they span."""
        start_s = since.timestamp()
        end_s = min(until.timestamp(), start_s + MAX_HOLD_S)
        for window, part_s in window_parts(start_s, end_s, self.window_s):
            if self._window is not None and window != self._window:
                self._close()
                self._window = window
            self._energy_ws += power_w * part_s
        if self._window is not None and self._window_of(until) != self._window:
            self._close()
            self._window = self._window_of(until)

    def _close(self) -> None:
        self.peak_w = max(self.peak_w, self._energy_ws / self.window_s)
        self._energy_ws = 0.0


def count_demand(state: SiteState) -> None:
    """At a control tick: count the interval from the last counted site reading to the
    latest good one into the billing period's peak, as the import besides our chargers
    then plus what they drew as of the latest (the samples that cover the interval; see
    the module notes)."""
    reading = state.meter.last_good
    if reading is None or reading.total_power_w is None:
        return
    demand, last = state.demand, state.demand.pending
    if last is not None and reading.at <= last[0]:
        return
    # what our chargers drew as of the reading, read once: both imports count it
    ours = ours_w(state, reading.at)
    if last is not None:
        since, since_besides_w = last
        import_w = since_besides_w + ours
        demand.observe(since, import_w, state.site.tariff.billing_period_start(since))
    demand.pending = (reading.at, reading.total_power_w - ours)


def recall_demand(state: SiteState, event: DemandRecalled) -> None:
    """The store's peak of the billing period `event.at` falls in; one of an earlier
    period (the service was down over the turn of the month) is dropped."""
    if not math.isfinite(event.peak_w) or event.peak_w < 0.0:
        return
    if event.period_start != state.site.tariff.billing_period_start(event.at):
        return
    state.demand.recall(event.period_start, event.peak_w)
