"""One control step: capacity → problem → allocation → limits worth sending, with reasons.

A function of the state and the time; the controller calls it on a tick. It never holds a
limit above what the allocation fits: raises may wait, lowering that a limit needs goes out
at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from ems import planner, rate_limit
from ems.bottleneck import bottleneck
from ems.capacity import Capacity, arrival_a, assess
from ems.closed_loop import probe
from ems.commands import SetLimit
from ems.limit_check import check_loads
from ems.phases import round_down, spread
from ems.problem_builder import build_problem
from ems.rate_limit import Decision
from ems.site import ControlSettings
from ems.solver_port import AllocationSolver
from ems.state import ConnectorRuntime, Outcome, Sent, SiteState
from optimizer.allocation import (
    Allocation,
    ConnectorAllocation,
    ConnectorState,
    PauseReason,
    SolveStatus,
)
from optimizer.problem import Problem

log = logging.getLogger(__name__)

_PAUSE_TEXT = {
    PauseReason.INSUFFICIENT_CAPACITY: "paused: the minimums do not all fit; lost on priority",
    PauseReason.ENERGY_MET: "paused: its energy need is met",
    PauseReason.EV_LIMIT_BELOW_MIN: "paused: its maximum is below its minimum current",
}


@dataclass(frozen=True)
class StepResult:
    commands: list[SetLimit]
    capacity: Capacity
    allocation: Allocation | None


@dataclass(frozen=True)
class _Plan:
    target_a: float
    later_a: tuple[float, ...]
    decision: Decision
    explanation: str
    bottleneck: str | None

    @property
    def reason(self) -> str:
        return f"{self.explanation}; {self.decision.why}"


def run_step(
    state: SiteState, settings: ControlSettings, solver: AllocationSolver, now: datetime
) -> StepResult:
    for runtime in state.connectors.values():
        probe(runtime, now, settings)
    capacity = assess(state, settings, now)
    steered: list[ConnectorRuntime] = []
    for runtime in state.connectors.values():
        if state.is_controlled(runtime):
            steered.append(runtime)
        else:
            runtime.outcome = Outcome(0.0, _idle_reason(state, runtime, settings), None)
    if not steered:
        return StepResult([], capacity, None)
    problem = build_problem(state, capacity, settings, now)
    allocation = _solve(solver, problem)
    step_s = problem.horizon.step_s if problem.horizon is not None else None
    by_id = {} if allocation is None else allocation.by_id()
    plans = {
        c.key: _plan(state, c, allocation, by_id.get(c.key), capacity, settings, now)
        for c in steered
    }
    _enforce_limits(state, steered, plans, capacity)
    commands: list[SetLimit] = []
    for runtime in steered:
        plan = plans[runtime.key]
        runtime.outcome = Outcome(plan.decision.limit_a, plan.reason, plan.bottleneck)
        if plan.decision.send:
            commands.append(_send(state, runtime, plan, step_s, settings, now))
    return StepResult(commands, capacity, allocation)


def _solve(solver: AllocationSolver, problem: Problem) -> Allocation | None:
    """The solver's allocation; None if it raised (its own failures come back as a status)."""
    try:
        return solver.solve(problem)
    except Exception:
        log.exception("the allocation solver raised; holding sessions at their fallbacks")
        return None


def _plan(
    state: SiteState,
    runtime: ConnectorRuntime,
    allocation: Allocation | None,
    found: ConnectorAllocation | None,
    capacity: Capacity,
    settings: ControlSettings,
    now: datetime,
) -> _Plan:
    if allocation is None or found is None:
        target = round_down(runtime.fallback_a)
        later: tuple[float, ...] = ()
        explanation = "no allocation (solver error): held at its fallback"
        limit_name = None
    else:
        target = round_down(found.now_a)
        later = found.current_a[1:]
        limit_name = bottleneck(
            state.site, runtime.config, runtime.active_phases, allocation.binding
        )
        explanation = _explain(runtime, found, allocation, capacity, limit_name, settings, now)
    if runtime.in_pause_dwell(now, settings.pause_dwell_s):
        target = 0.0
    decision = rate_limit.decide(runtime, target, now, settings)
    return _Plan(target, later, decision, explanation, limit_name)


def _explain(
    runtime: ConnectorRuntime,
    found: ConnectorAllocation,
    allocation: Allocation,
    capacity: Capacity,
    limit_name: str | None,
    settings: ControlSettings,
    now: datetime,
) -> str:
    parts: list[str] = []
    if capacity.mode.value == "conservative":
        parts.append(f"conservative ({capacity.reason})")
    if allocation.status is not SolveStatus.OPTIMAL:
        parts.append(f"optimizer safe fallback ({allocation.status.value})")
    if runtime.in_pause_dwell(now, settings.pause_dwell_s):
        parts.append("paused: waiting out the minimum pause")
    elif found.state is ConnectorState.PAUSED:
        reason = found.reason
        parts.append(_PAUSE_TEXT.get(reason, "paused") if reason is not None else "paused")
    else:
        share = f"{round_down(found.now_a):g} A per phase"
        parts.append(f"{share}, limited by {limit_name}" if limit_name else share)
    bound = runtime.taper.bound_a
    if bound is not None:
        parts.append(f"tapering: bound {bound:g} A (draws less than allowed)")
    return "; ".join(parts)


def _enforce_limits(
    state: SiteState, steered: list[ConnectorRuntime], plans: dict[str, _Plan], capacity: Capacity
) -> None:
    """Send held lowerings at once when holding them would exceed a limit; should the
    targets themselves not fit (a solver error), pause every steered session."""
    broken = _broken(state, steered, plans, capacity)
    if not broken:
        return
    why = f"lowered at once: holding it would exceed {', '.join(broken)}"
    for runtime in steered:
        plan = plans[runtime.key]
        if plan.decision.held_lowering:
            plans[runtime.key] = _replace_decision(
                plan, rate_limit.release(plan.decision, plan.target_a, why)
            )
    broken = _broken(state, steered, plans, capacity)
    if not broken:
        return
    log.error("allocation exceeds %s; pausing every steered session", ", ".join(broken))
    why = f"paused: the allocation would exceed {', '.join(broken)}"
    for runtime in steered:
        plan = plans[runtime.key]
        if plan.decision.limit_a > 0:
            plans[runtime.key] = _Plan(
                0.0, (), Decision(True, 0.0, why), plan.explanation, plan.bottleneck
            )


def _broken(
    state: SiteState, steered: list[ConnectorRuntime], plans: dict[str, _Plan], capacity: Capacity
) -> tuple[str, ...]:
    loads = [(c.config, spread(c.active_phases, plans[c.key].decision.limit_a)) for c in steered]
    return check_loads(state.site, capacity.fixed_load_a, capacity.circuit_reserved_a, loads)


def _replace_decision(plan: _Plan, decision: Decision) -> _Plan:
    return _Plan(plan.target_a, plan.later_a, decision, plan.explanation, plan.bottleneck)


def _send(
    state: SiteState,
    runtime: ConnectorRuntime,
    plan: _Plan,
    step_s: float | None,
    settings: ControlSettings,
    now: datetime,
) -> SetLimit:
    assert runtime.session is not None
    charger = state.charger_of(runtime)
    max_periods = settings.max_schedule_periods
    if charger.max_periods is not None:
        max_periods = max(1, min(max_periods, charger.max_periods))
    limit = plan.decision.limit_a
    command = planner.session_profile(
        runtime,
        (limit, *plan.later_a),
        step_s,
        now,
        settings,
        state.site.limits.voltage_v,
        f"{limit:g} A per phase: {plan.reason}",
        max_periods,
    )
    runtime.sent = Sent(limit, now, runtime.session.transaction_id, command)
    if limit <= 0:
        runtime.paused_at = runtime.paused_at or now
    else:
        runtime.paused_at = None
    return command


def _idle_reason(state: SiteState, runtime: ConnectorRuntime, settings: ControlSettings) -> str:
    uncontrolled = runtime.uncontrolled_reason
    if uncontrolled is not None:
        return f"uncontrolled ({uncontrolled}): counted at its maximum"
    charger = state.charger_of(runtime)
    if not charger.smart_charging:
        return "charger without smart charging: counted at its maximum"
    if not charger.online:
        if runtime.ev_present:
            return f"charger offline: its last limit {runtime.allowed_a():g} A counted as drawn"
        return f"charger offline{_arrival_room(state, runtime, settings)}"
    if runtime.ev_present:
        return f"EV plugged in, no session yet: counted at its fallback {runtime.fallback_a:g} A"
    return f"no EV{_arrival_room(state, runtime, settings)}"


def _arrival_room(state: SiteState, runtime: ConnectorRuntime, settings: ControlSettings) -> str:
    amps = arrival_a(state, runtime) if settings.reserve_for_arrivals else 0.0
    return f"; {amps:g} A held for an arriving EV" if amps > 0 else ""
