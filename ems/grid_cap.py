"""A grid operator's time-varying import cap (a DSO curtailment schedule) as the site limit
over time.

The schedule is a step function: from each `GridCap.start` on, the site may import at most
its cap per phase and/or in total until the next step (a step capping neither ends the
curtailment). It reaches the controller as the site limit in force
(`ems.site_limit.limit_wanted`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class GridCap:
    """From `start` on: at most `phase_limit_a` per phase and `power_limit_w` in total
    (None: no cap of that kind, the configured limit holds)."""

    start: datetime
    phase_limit_a: float | None = None
    power_limit_w: float | None = None


def step_at(steps: Sequence[T], at: datetime, start: Callable[[T], datetime]) -> T | None:
    """The step in force at `at` of a schedule in time order (`start` gives when each
    begins); None before the first."""
    found: T | None = None
    for step in steps:
        if start(step) > at:
            break
        found = step
    return found


def cap_at(schedule: Sequence[GridCap], at: datetime) -> GridCap | None:
    """The cap in force at `at`; None before the first."""
    return step_at(schedule, at, lambda cap: cap.start)


def caps_ahead(schedule: Sequence[GridCap], now: datetime, until: datetime) -> list[GridCap]:
    """The step in force at `now` and those starting up to `until`, for showing."""
    ahead = [cap for cap in schedule if now < cap.start <= until]
    current = cap_at(schedule, now)
    return ahead if current is None else [current, *ahead]
