"""The site part of a dry-run: its limit, what is not ours, what we allow, what is left."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.planning.dry_run import DryRun
from optimizer.problem import PhaseTriple


@dataclass(frozen=True)
class SiteSummary:
    name: str
    limit_a: float
    power_limit_w: float | None
    voltage_v: float
    mode: str
    mode_reason: str
    meter_current_a: PhaseTriple | None
    meter_age_s: float | None
    base_load_a: PhaseTriple
    reserved_a: PhaseTriple
    """Connectors we do not steer, at what they may draw."""
    allowed_total_a: PhaseTriple
    """Base load + reserved + every steered connector's allowance."""
    headroom_a: PhaseTriple
    """The site limit minus `allowed_total_a`: never negative when the plan is safe."""
    solve_status: str | None
    binding: tuple[str, ...]
    limit_reason: str | None = None
    """Why the limit in force is below the configured one (a grid operator's cap)."""


def site_summary(run: DryRun) -> SiteSummary:
    view = run.view
    limits = run.site.limits if run.limits is None else run.limits
    total = view.allowed_total_a
    limit = limits.phase_limit_a
    return SiteSummary(
        name=run.site.name,
        limit_a=limit,
        power_limit_w=limits.power_limit_w,
        voltage_v=limits.voltage_v,
        mode=view.mode.value,
        mode_reason=view.mode_reason,
        meter_current_a=view.site_current_a,
        meter_age_s=view.meter_age_s,
        base_load_a=view.base_load_a,
        reserved_a=view.reserved_a,
        allowed_total_a=total,
        headroom_a=(limit - total[0], limit - total[1], limit - total[2]),
        solve_status=view.solve_status,
        binding=view.binding,
        limit_reason=run.limit_reason,
    )
