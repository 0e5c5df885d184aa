"""The site limit in force: the configured one (the main fuse), or a lower one set while
the site runs (an operator's override, a grid operator's time-varying limit).

A requested limit never exceeds the configured one; a request at or above it restores
the configured limit. A request that is not a finite, non-negative number is refused and
the limit in force is kept.

A grid operator's cap schedule (`ems.grid_cap`) and the operator's override reach the
controller as one `SiteLimitChanged` for the lowest of them (`limit_wanted`), the event a
replay's limit series feeds too, so a cap is kept as they are: a lowering runs the control
step at once, a raise waits for the rate limits. A lower cap is put in force `lead_s`
before it starts: an EV follows a lowered limit only seconds after its charger got it
(IEC 61851-1 gives it 5 s), so the limit must be down before the cap is. A higher cap
waits until it starts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ems.events import SiteLimitChanged
from ems.grid_cap import GridCap, caps_ahead
from ems.site import ControlSettings
from optimizer.problem import SiteLimits

GRID_CAP_REASON = "grid operator cap"
OVERRIDE_REASON = "operator override"


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


def cap_lead_s(settings: ControlSettings, look_s: float) -> float:
    """How long before a lower cap starts it is put in force: the time between two looks
    at the clock (`look_s`), a control period to send the lowering and the time an EV
    has to follow it."""
    return look_s + settings.period_s + settings.reaction_s


def limit_wanted(
    configured: SiteLimits,
    schedule: Sequence[GridCap],
    override_a: float | None,
    now: datetime,
    lead_s: float,
) -> SiteLimitChanged:
    """The site limit to be in force at `now`: the lowest of the configured limit, the
    operator's override (A per phase) and every cap in force from `now` to `lead_s` on,
    with the reason naming what binds (None: the configured limit)."""
    soon = now + timedelta(seconds=lead_s)
    caps = caps_ahead(schedule, now, soon)
    phase_a, power_w, reason = configured.phase_limit_a, configured.power_limit_w, None
    if override_a is not None and override_a < phase_a:
        phase_a, reason = override_a, OVERRIDE_REASON
    for cap in caps:
        why = f"{GRID_CAP_REASON} from {cap.start.isoformat(timespec='minutes')}"
        if cap.phase_limit_a is not None and cap.phase_limit_a < phase_a:
            phase_a, reason = cap.phase_limit_a, why
        if cap.power_limit_w is not None and (power_w is None or cap.power_limit_w < power_w):
            power_w, reason = cap.power_limit_w, why
    return SiteLimitChanged(now, phase_a, power_w, reason)
