"""What power costs: the import price by time, the export (feed-in) price, a demand charge.

Pure data and arithmetic; the files and endpoints that fill it live in `adapters/files`.
The import price at a moment is, in this order: the dynamic series (day-ahead prices)
where it covers the moment, else the first time-of-use rule that matches the local time,
else the fixed price, else none (no price: the planner weighs no money). A series point
holds until the next one; the last one for as long as the one before it (an hour when
there is only one).

A demand charge prices the highest average import over a `demand_window_s` window (15
minutes for most capacity tariffs) in a billing period (a calendar month, local time).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from optimizer.problem import PricePeriod

ALL_WEEKDAYS = frozenset(range(7))
"""Monday 0 to Sunday 6, as `datetime.weekday()`."""
ALL_MONTHS = frozenset(range(1, 13))
HOURS_PER_DAY = 24
DEFAULT_SERIES_STEP_S = 3600.0
DEMAND_WINDOW_S = 900.0
FloatArray = npt.NDArray[np.float64]
MAX_PERIODS = 24 * 32 * 4
"""At most this many price periods are listed for one plan: a month of quarter hours."""


@dataclass(frozen=True)
class TimeOfUseRule:
    """`price_per_kwh` from `from_hour` (inclusive) to `to_hour` (exclusive), local time,
    on `weekdays` in `months` (a season). `to_hour` below `from_hour` wraps past midnight
    (22 to 6 is the night)."""

    price_per_kwh: float
    from_hour: int = 0
    to_hour: int = HOURS_PER_DAY
    weekdays: frozenset[int] = ALL_WEEKDAYS
    months: frozenset[int] = ALL_MONTHS

    def matches(self, local: datetime) -> bool:
        if local.month not in self.months:
            return False
        hour = local.hour
        if self.from_hour <= self.to_hour:
            in_hours = self.from_hour <= hour < self.to_hour
            day = local.weekday()
        else:  # wraps past midnight: the early hours belong to the evening before
            in_hours = hour >= self.from_hour or hour < self.to_hour
            day = local.weekday() if hour >= self.from_hour else (local.weekday() - 1) % 7
        return in_hours and day in self.weekdays


@dataclass(frozen=True)
class Tariff:
    """How the site pays for power. Prices per kWh and per kW in one currency."""

    fixed_price_per_kwh: float | None = None
    rules: tuple[TimeOfUseRule, ...] = ()
    series: tuple[PricePeriod, ...] = ()
    export_price_per_kwh: float = 0.0
    demand_price_per_kw: float = 0.0
    """Per kW of the billing period's highest `demand_window_s` average import."""
    demand_window_s: float = DEMAND_WINDOW_S
    timezone: tzinfo = field(default=UTC)
    """The zone the time-of-use rules and the billing months are read in."""

    @property
    def has_import_price(self) -> bool:
        return self.fixed_price_per_kwh is not None or bool(self.rules) or bool(self.series)

    @property
    def is_empty(self) -> bool:
        """Nothing here prices anything."""
        return not self.has_import_price and self.demand_price_per_kw <= 0.0

    def _series_end(self) -> datetime | None:
        if not self.series:
            return None
        last = self.series[-1].start
        step_s = DEFAULT_SERIES_STEP_S
        if len(self.series) > 1:
            step_s = (last - self.series[-2].start).total_seconds()
        return last + timedelta(seconds=step_s)

    def price_at(self, moment: datetime) -> float | None:
        """The import price per kWh at `moment` (aware), None if the tariff has none."""
        return self._price_at(moment, self._series_end())

    def _price_at(self, moment: datetime, end: datetime | None) -> float | None:
        """`price_at`, the series ending at `end` (`_series_end`): worked out once by
        `periods`, which asks the price at every change to the last departure at every
        step."""
        if end is not None and self.series[0].start <= moment < end:
            return _series_price(self.series, moment)
        local = moment.astimezone(self.timezone)
        for rule in self.rules:
            if rule.matches(local):
                return rule.price_per_kwh
        if self.fixed_price_per_kwh is not None:
            return self.fixed_price_per_kwh
        if self.series and end is not None and moment >= end:
            return self.series[-1].price_per_kwh
        return None

    def periods(self, start: datetime, end: datetime) -> tuple[PricePeriod, ...]:
        """The import price from `start` to `end` as a step function: one period per
        change (at most `MAX_PERIODS`); empty when the tariff has no import price."""
        if not self.has_import_price:
            return ()
        periods: list[PricePeriod] = []
        series_end = self._series_end()
        for moment in self._changes(start, end):
            price = self._price_at(moment, series_end)
            if price is None:
                continue
            if not periods or periods[-1].price_per_kwh != price:
                periods.append(PricePeriod(moment, price))
            if len(periods) >= MAX_PERIODS:
                break
        return tuple(periods)

    def _changes(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """`start`, then every moment in (start, end) at which the price may change: the
        series points and its end, and (with rules) every local hour."""
        candidates = {p.start for p in self.series if start < p.start < end}
        series_end = self._series_end()
        if series_end is not None and start < series_end < end:
            candidates.add(series_end)
        if self.rules:
            local = start.astimezone(self.timezone)
            into_hour = timedelta(
                minutes=local.minute, seconds=local.second, microseconds=local.microsecond
            )
            hour = start - into_hour + timedelta(hours=1)
            for _ in range(MAX_PERIODS):
                if hour >= end:
                    break
                candidates.add(hour)
                hour += timedelta(hours=1)
        yield start
        yield from sorted(candidates)

    def billing_period_start(self, moment: datetime) -> datetime:
        """The start of the billing month `moment` falls in (local time), in UTC."""
        local = moment.astimezone(self.timezone)
        first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return first.astimezone(UTC)


def _series_price(series: tuple[PricePeriod, ...], moment: datetime) -> float:
    low, high = 0, len(series)
    while high - low > 1:
        middle = (low + high) // 2
        if series[middle].start <= moment:
            low = middle
        else:
            high = middle
    return series[low].price_per_kwh


Amount = TypeVar("Amount", float, FloatArray)


def energy_cost(
    import_kwh: Amount, export_kwh: Amount, price: Amount, export_price: float
) -> Amount:
    """What a step's import and export cost (per step, for arrays): the import at its
    price, less the export at the feed-in price."""
    return import_kwh * price - export_kwh * export_price
