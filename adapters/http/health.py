"""Is the controller doing its job? The answer a monitoring check reads from /api/health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from adapters.http.snapshot import ControllerSnapshot, SiteSnapshot, StatusSnapshot

HEALTHY_MODES = frozenset({"normal"})
"""Any other mode (conservative, or one added later) is reported unhealthy, so that a
monitoring check alerts on it rather than silently passing it."""

STEP_MARGIN_S = 2.0
"""Slack on top of the control period before a missing proper step is a problem. A step
runs on the first tick after it is due (ticks come at least once a second) and takes its
solve time; a controller that keeps its period is never later than this."""

UNPROVEN_GRACE_S = 60.0
"""How long a connector may stay unproven — counted at its hardware maximum because none
of its profiles is confirmed — before health fails. After a start (or a charger's reboot)
chargers need time to connect, boot and accept the default profiles sent to them; past
that, the site is planned around a charger the controller cannot bound (offline, or not
accepting its profiles), which takes room from every other one and needs an operator."""


@dataclass(frozen=True)
class Health:
    ok: bool
    problems: tuple[str, ...]


def assess(snapshot: StatusSnapshot) -> Health:
    """Healthy when the controller runs in normal mode on a fresh, valid meter reading,
    produces proper control steps (no exception, an optimal allocation) every period,
    trusts every circuit meter, and can bound every connector by a confirmed profile
    (after a grace period)."""
    problems = [
        *site_problems(snapshot.site),
        *controller_problems(snapshot.controller, snapshot.at),
    ]
    return Health(ok=not problems, problems=tuple(problems))


def site_problems(site: SiteSnapshot) -> list[str]:
    problems: list[str] = []
    if site.mode not in HEALTHY_MODES:
        problems.append(f"controller in {site.mode} mode")
    if site.meter_age_s is None:
        # Readings may be arriving, every one invalid: then say why.
        problems.append(
            "no meter reading yet"
            if site.meter_reason is None
            else f"no valid meter reading yet: {site.meter_reason}"
        )
    elif site.meter_age_s > site.meter_stale_after_s:
        problems.append(
            f"meter stale: last reading {site.meter_age_s:.0f} s ago"
            f" (limit {site.meter_stale_after_s:.0f} s)"
        )
    if not site.meter_valid and not site.meter_silent and site.meter_age_s is not None:
        problems.append(f"meter invalid: {site.meter_reason or 'no reason given'}")
    return problems


def controller_problems(controller: ControllerSnapshot, now: datetime) -> list[str]:
    problems: list[str] = []
    since_s = controller.seconds_since_proper_step(now)
    if since_s is not None and since_s > controller.period_s + STEP_MARGIN_S:
        span = (
            f"for {since_s:.0f} s"
            if controller.last_proper_step_at is not None
            else f"in the {since_s:.0f} s since the start"
        )
        problem = f"no proper control step {span} (control period {controller.period_s:g} s)"
        if controller.last_error is not None:
            problem += f"; last step error: {controller.last_error}"
        problems.append(problem)
    if controller.last_step_fault is not None:
        problems.append(f"last control step not proper: {controller.last_step_fault}")
    problems.extend(controller.untrusted_circuit_meters)
    if controller.drawing_too_much:
        problems.append(
            "drawing more than allowed (counted at their hardware maximum, steered no more"
            f" this session): {', '.join(controller.drawing_too_much)}"
        )
    overdue = unproven_overdue(controller, now)
    if overdue:
        problems.append(
            f"unproven for more than {UNPROVEN_GRACE_S:g} s (counted at their hardware"
            f" maximum, no profile confirmed): {', '.join(overdue)}"
        )
    return problems


def unproven_overdue(controller: ControllerSnapshot, now: datetime) -> tuple[str, ...]:
    """The connectors unproven for longer than the grace period."""
    return tuple(
        u.key for u in controller.unproven if (now - u.since).total_seconds() > UNPROVEN_GRACE_S
    )
