"""The site's own load and PV forecasts on one time line: every moment either changes,
with each one's value from then on. The money plan moves the present import along them
at every step (`ems.problem_builder`); the line is drawn once per pair of forecasts
(`SiteConfig.forecast_steps`), and each step only finds where `now` falls on it.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime

from optimizer.problem import PowerPeriod


@dataclass(frozen=True)
class ForecastSteps:
    """`starts` (ascending, each once): every start of the two forecasts; `load_w` and
    `pv_w` each forecast's value at each of them (`values_at`; 0 without a forecast), and
    `before` their values before the first (their first periods')."""

    starts: tuple[datetime, ...]
    load_w: tuple[float, ...]
    pv_w: tuple[float, ...]
    before: tuple[float, float]

    @classmethod
    def of(cls, load: tuple[PowerPeriod, ...], pv: tuple[PowerPeriod, ...]) -> ForecastSteps:
        starts = sorted({p.start for p in (*load, *pv)})
        before = (load[0].power_w if load else 0.0, pv[0].power_w if pv else 0.0)
        return cls(tuple(starts), values_at(load, starts), values_at(pv, starts), before)

    def moved(self, now: datetime, net_w: float) -> tuple[PowerPeriod, ...]:
        """`net_w` from `now` on, then at each later change moved by how much more the
        load, less the PV, is forecast then than at `now`."""
        # Where `now` falls: no start lies between the last one at or before it and it,
        # so each forecast's value at `now` is its value at that start (`values_at`);
        # before every start, its first period's.
        after = bisect_right(self.starts, now)
        load_now, pv_now = (
            (self.load_w[after - 1], self.pv_w[after - 1]) if after > 0 else self.before
        )
        periods = [PowerPeriod(now, net_w)]
        for start, load_w, pv_w in zip(
            self.starts[after:], self.load_w[after:], self.pv_w[after:], strict=True
        ):
            periods.append(PowerPeriod(start, net_w + ((load_w - load_now) - (pv_w - pv_now))))
        return tuple(periods)


def values_at(forecast: tuple[PowerPeriod, ...], moments: list[datetime]) -> tuple[float, ...]:
    """The forecast's value at each of `moments` (ascending): that of the period before
    the first one starting after the moment (the first period's before it); 0 without a
    forecast. One sweep: the first period starting after a moment only moves on as the
    moments do."""
    if not forecast:
        return (0.0,) * len(moments)
    values: list[float] = []
    after = 0
    for moment in moments:
        while after < len(forecast) and not forecast[after].start > moment:
            after += 1
        values.append(forecast[max(after - 1, 0)].power_w)
    return tuple(values)
