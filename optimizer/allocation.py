"""The optimizer's answer as plain data: per connector and step, what it may draw and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from optimizer.problem import PhaseTriple


class ConnectorState(StrEnum):
    CHARGING = "charging"
    PAUSED = "paused"
    IDLE = "idle"


class PauseReason(StrEnum):
    """Why a present EV gets 0 A. Machine-readable; the dry-run and status page show it."""

    INSUFFICIENT_CAPACITY = "insufficient_capacity"
    """The minimums of all present EVs do not fit; this one lost by the priority rule."""
    ENERGY_MET = "energy_met"
    """The session's energy need is already met."""
    EV_LIMIT_BELOW_MIN = "ev_limit_below_min"
    """The EV's or connector's own maximum is below its minimum current."""


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"
    FALLBACK_INFEASIBLE = "fallback_infeasible"
    """The LP was infeasible (e.g. base load alone exceeds a limit); safe fallback used."""
    FALLBACK_SOLVER_ERROR = "fallback_solver_error"
    """The solver failed or timed out; safe fallback used."""


@dataclass(frozen=True)
class ConnectorAllocation:
    """One connector's allowed current over the horizon (one entry per step).

    `current_a[t]` is the per-phase current on each phase the EV uses; `phase_current_a[t]`
    spreads it over site phases (zero on phases the connector or EV does not use).
    """

    connector_id: str
    current_a: tuple[float, ...]
    phase_current_a: tuple[PhaseTriple, ...]
    power_w: tuple[float, ...]
    state: ConnectorState
    reason: PauseReason | None = None

    @property
    def now_a(self) -> float:
        """The allowed per-phase current for the first step (the one applied now)."""
        return self.current_a[0] if self.current_a else 0.0


@dataclass(frozen=True)
class Allocation:
    """The solution of a Problem.

    `binding` names the constraints at their limit (e.g. `site-L1`, `circuit-c1-L2`,
    `connector-cp1/1-max`, `site-power`), so a dry-run can say what the bottleneck is.
    """

    status: SolveStatus
    connectors: tuple[ConnectorAllocation, ...]
    binding: tuple[str, ...]
    solve_ms: float
    site_current_a: tuple[PhaseTriple, ...]
    """Per step, the site current per phase: base load plus every allocation."""

    def by_id(self) -> dict[str, ConnectorAllocation]:
        return {c.connector_id: c for c in self.connectors}
