"""The site limit in force: the configured one (the main fuse), or a lower one set while
the site runs (an operator's override, a grid operator's time-varying limit).

A requested limit never exceeds the configured one; a request at or above it restores
the configured limit. A request that is not a finite, non-negative number is refused and
the limit in force is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ems.events import SiteLimitChanged
from optimizer.problem import SiteLimits


@dataclass(frozen=True)
class LimitInForce:
    limits: SiteLimits
    reason: str | None
    """Why it differs from the configured limit; None when the configured limit applies."""


def is_tighter(new: SiteLimits, old: SiteLimits) -> bool:
    """Whether `new` is lower than `old` on the phases or on power."""
    if new.phase_limit_a < old.phase_limit_a:
        return True
    return new.power_limit_w is not None and (
        old.power_limit_w is None or new.power_limit_w < old.power_limit_w
    )


def limit_in_force(configured: SiteLimits, change: SiteLimitChanged) -> LimitInForce:
    """The limit a change asks for, clamped to the configured one.

    Raises ValueError for a limit that is not a finite, non-negative number.
    """
    _check("phase_limit_a", change.phase_limit_a)
    phase_a = min(change.phase_limit_a, configured.phase_limit_a)
    power_w = configured.power_limit_w
    if change.power_limit_w is not None:
        _check("power_limit_w", change.power_limit_w)
        power_w = change.power_limit_w if power_w is None else min(power_w, change.power_limit_w)
    limits = SiteLimits(phase_a, power_w, configured.voltage_v)
    if limits == configured:
        return LimitInForce(configured, None)
    return LimitInForce(limits, change.reason or "site limit changed")


def _check(name: str, value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"site limit change: {name} must be a finite number >= 0 (got {value})")
