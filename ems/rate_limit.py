"""When a new limit is worth sending to a connector, and when it must go out at once.

- deadband: a change within `max(deadband_a, deadband_pct % of the current limit)` is not
  sent; but a raise is sent whatever its size where a limit the connector shares with
  others binds (`scarce`), since the room it leaves there is room no session gets;
- raises go out at most once per `min_update_interval_s` per connector;
- lowering beyond the deadband, and pausing, go out at once; a lowering held by the
  deadband is released by the controller when holding it would break a limit;
- a paused EV stays paused for `pause_dwell_s` (no start/stop flapping);
- a session profile is refreshed before it lapses (`profile_validity_s`).

Every hold keeps a limit at or below the one in force, or at or below the target, so
holding never lets the site exceed what the allocation fits.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from ems.site import ControlSettings
from ems.state import ConnectorRuntime


class Decision(NamedTuple):
    """What the step does with a connector's limit. A named tuple rather than a frozen
    dataclass: one is made for every steered connector at every step."""

    send: bool
    limit_a: float
    """The limit in force after this step: the one sent, or the one held."""
    why: str
    held_lowering: bool = False
    """Held above the target by the deadband; safety may force it out."""


def refresh_margin_s(settings: ControlSettings) -> float:
    """How long before a session profile lapses it is re-sent."""
    return min(2.0 * settings.period_s, settings.profile_validity_s / 2.0)


def deadband_a(current_a: float, settings: ControlSettings) -> float:
    return max(settings.deadband_a, current_a * settings.deadband_pct / 100.0)


def decide(
    connector: ConnectorRuntime,
    target_a: float,
    now: datetime,
    settings: ControlSettings,
    scarce: str | None = None,
) -> Decision:
    """Whether to send `target_a` to a steered session now, or what to hold instead.
    `scarce` names a binding limit the connector shares with others, if one binds in the
    plan (`ems.bottleneck.shared_binding`): the deadband holds no raise under it. It spares
    a charger a profile for a change too small to matter to its EV, but there the room a
    held raise leaves is room no session gets, and over a site's connectors it adds up to
    amperes of every period (on residential evenings 0.06-0.17 % of the requested
    energy); the update interval still bounds how often one connector is raised."""
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
        beyond = target_a - current > deadband_a(current, settings)
        moved = resuming or beyond or scarce is not None
        if moved and interval_ok:
            return Decision(True, target_a, _raised(resuming, beyond, scarce))
        if refresh_due:
            limit = target_a if interval_ok else current
            return Decision(True, limit, "refreshed before it lapses")
        why = "raise waits for the update interval" if moved else "change within the deadband"
        return Decision(False, current, why)
    if refresh_due:
        return Decision(True, current, "refreshed before it lapses")
    return Decision(False, current, "unchanged")


def _raised(resuming: bool, beyond: bool, scarce: str | None) -> str:
    """Why a raise goes out: beyond the deadband, or under a binding shared limit."""
    if resuming:
        return "resumed"
    if beyond or scarce is None:
        return "raised"
    return f"raised: {scarce} binds, and a held raise would leave room no session gets"


def release(decision: Decision, target_a: float, why: str) -> Decision:
    """Send a held lowering now, because holding it would break a limit."""
    return decision._replace(send=True, limit_a=target_a, why=why, held_lowering=False)
