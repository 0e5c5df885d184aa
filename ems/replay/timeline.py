"""The replay's clock: the steps, and every time series sampled onto them."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from ems.replay.scenario import Scenario

FloatArray = npt.NDArray[np.float64]
T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Timeline:
    """`steps` steps of `step_s` seconds from `start`, with per-step base load (A, shape
    steps×3, net of PV: negative while the PV exports), site phase limit (A), total power
    cap (W, NaN for none), import price (per kWh, NaN for none) and PV production (W)."""

    start: datetime
    step_s: float
    steps: int
    base_load_a: FloatArray
    phase_limit_a: FloatArray
    power_limit_w: FloatArray
    price_per_kwh: FloatArray
    pv_w: FloatArray

    def at(self, index: int) -> datetime:
        return self.start + timedelta(seconds=index * self.step_s)

    def step_of(self, moment: datetime) -> int:
        """The first step starting at or after `moment`."""
        return math.ceil((moment - self.start).total_seconds() / self.step_s - 1e-9)

    @property
    def has_prices(self) -> bool:
        return bool(np.isfinite(self.price_per_kwh).any())


def _sample(times: Sequence[datetime], values: Sequence[T], moment: datetime) -> T | None:
    """The step-function value at `moment`: the last point at or before it."""
    index = bisect_right(times, moment) - 1
    return values[index] if index >= 0 else None


def build_timeline(scenario: Scenario, step_s: float) -> Timeline:
    """Steps from the scenario's start until the last departure, and over every series
    point (a point at `t` covers the step starting at `t`). A time-varying limit above the
    site's configured one (its main fuse) is held at the configured one, as the controller
    holds it."""
    if step_s <= 0:
        raise ValueError(f"step must be > 0 s (got {step_s})")
    start = scenario.start
    span_s = max(((s.departure - start).total_seconds() for s in scenario.sessions), default=0)
    steps = math.ceil(span_s / step_s - 1e-9)
    for series_end in (
        *(p.at for p in scenario.base_load[-1:]),
        *(p.at for p in scenario.limits[-1:]),
        *(p.at for p in scenario.prices[-1:]),
        *(p.at for p in scenario.pv[-1:]),
    ):
        steps = max(steps, int((series_end - start).total_seconds() // step_s) + 1)
    steps = max(steps, 1)

    site = scenario.site.limits
    base = np.zeros((steps, 3))
    limit = np.full(steps, site.phase_limit_a)
    power = np.full(steps, np.nan if site.power_limit_w is None else site.power_limit_w)
    price = np.full(steps, np.nan)
    base_times = [p.at for p in scenario.base_load]
    limit_times = [p.at for p in scenario.limits]
    tariff = scenario.tariff
    pv = np.zeros(steps)
    pv_times = [p.at for p in scenario.pv]
    for k in range(steps):
        moment = start + timedelta(seconds=k * step_s)
        load = _sample(base_times, scenario.base_load, moment)
        if load is not None:
            base[k] = load.current_a
        cap = _sample(limit_times, scenario.limits, moment)
        if cap is not None:
            limit[k] = min(cap.phase_limit_a, site.phase_limit_a)
            if cap.power_limit_w is not None:
                power[k] = np.fmin(cap.power_limit_w, power[k])
        sun = _sample(pv_times, scenario.pv, moment)
        if sun is not None:
            pv[k] = sun.power_w
            base[k] -= sun.power_w / (3 * scenario.site.limits.voltage_v)
        price_now = tariff.price_at(moment)
        if price_now is not None:
            price[k] = price_now
    return Timeline(start, step_s, steps, base, limit, power, price, pv)
