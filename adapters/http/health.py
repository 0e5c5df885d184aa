"""Is the controller doing its job? The answer a monitoring check reads from /api/health."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.http.snapshot import SiteSnapshot

HEALTHY_MODES = frozenset({"normal"})
"""Any other mode (conservative, or one added later) is reported unhealthy, so that a
monitoring check alerts on it rather than silently passing it."""


@dataclass(frozen=True)
class Health:
    ok: bool
    problems: tuple[str, ...]


def assess(site: SiteSnapshot) -> Health:
    """Healthy when the controller runs in normal mode on a fresh, valid meter reading."""
    problems: list[str] = []
    if site.mode not in HEALTHY_MODES:
        problems.append(f"controller in {site.mode} mode")
    if site.meter_age_s is None:
        problems.append("no meter reading yet")
    elif site.meter_age_s > site.meter_stale_after_s:
        problems.append(
            f"meter stale: last reading {site.meter_age_s:.0f} s ago"
            f" (limit {site.meter_stale_after_s:.0f} s)"
        )
    if not site.meter_valid:
        problems.append(f"meter invalid: {site.meter_reason or 'no reason given'}")
    return Health(ok=not problems, problems=tuple(problems))
