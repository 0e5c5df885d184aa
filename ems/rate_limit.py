"""When a new limit is worth sending to a connector, and when it must go out at once.

- deadband: a change within `max(deadband_a, deadband_pct % of the current limit)` is not
  sent; but a raise it holds is sent where a limit the connector shares with others binds
  (`ems.control_step`), since the room it leaves there is room no session gets;
- raises go out at most once per `min_update_interval_s` per connector;
- lowering beyond the deadband, and pausing, go out at once; a lowering held by the
  deadband is released by the controller when holding it would break a limit;
- a paused EV stays paused for `pause_dwell_s` (no start/stop flapping);
- a session profile is refreshed before it lapses (`profile_validity_s`).

Every hold keeps a limit at or below the one in force, or at or below the target, so
holding never lets the site exceed what the allocation fits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ems.site import ControlSettings
from ems.state import ConnectorRuntime


@dataclass(frozen=True)
class Decision:
    send: bool
    limit_a: float
    """The limit in force after this step: the one sent, or the one held."""
    why: str
    held_lowering: bool = False
    """Held above the target by the deadband; safety may force it out."""
    held_raise: bool = False
    """Held below the target by the deadband alone (the update interval has passed); the
    room it leaves unused may force it out (`ems.control_step`)."""


def refresh_margin_s(settings: ControlSettings) -> float:
    """How long before a session profile lapses it is re-sent."""
    return min(2.0 * settings.period_s, settings.profile_validity_s / 2.0)


def deadband_a(current_a: float, settings: ControlSettings) -> float:
    return max(settings.deadband_a, current_a * settings.deadband_pct / 100.0)


def decide(
    connector: ConnectorRuntime, target_a: float, now: datetime, settings: ControlSettings
) -> Decision:
    """Whether to send `target_a` to a steered session now, or what to hold instead."""
    sent = connector.sent_for_session()
    if sent is None:
        return Decision(True, target_a, "first limit of this session")
    current = sent.limit_a
    age_s = (now - sent.at).total_seconds()
    refresh_due = age_s >= settings.profile_validity_s - refresh_margin_s(settings)
    if current <= 0 < target_a and connector.in_pause_dwell(now, settings.pause_dwell_s):
        return Decision(refresh_due, 0.0, "stays paused for the minimum dwell")
    if target_a < current:
        if target_a <= 0 or current - target_a > deadband_a(current, settings):
            return Decision(True, target_a, "lowered at once")
        if refresh_due:
            return Decision(True, target_a, "refreshed before it lapses")
        return Decision(False, current, "change within the deadband", held_lowering=True)
    interval_ok = age_s >= settings.min_update_interval_s
    if target_a > current:
        resuming = current <= 0
        moved = resuming or target_a - current > deadband_a(current, settings)
        if moved and interval_ok:
            return Decision(True, target_a, "resumed" if resuming else "raised")
        if refresh_due:
            limit = target_a if interval_ok else current
            return Decision(True, limit, "refreshed before it lapses")
        why = "raise waits for the update interval" if moved else "change within the deadband"
        return Decision(False, current, why, held_raise=interval_ok and not moved)
    if refresh_due:
        return Decision(True, current, "refreshed before it lapses")
    return Decision(False, current, "unchanged")


def release(decision: Decision, target_a: float, why: str) -> Decision:
    """Send a held change now: a lowering, because holding it would break a limit; a
    raise, because under a binding limit the room it leaves is room no session gets."""
    return replace(
        decision, send=True, limit_a=target_a, why=why, held_lowering=False, held_raise=False
    )
