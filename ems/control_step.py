"""One control step: capacity → problem → allocation → limits worth sending, with reasons.

A function of the state and the time; the controller calls it on a tick. It never holds a
limit above what the allocation fits: raises may wait, lowering that a limit needs goes out
at once. A raise also waits until the room it needs is proven free (`ems.raise_gate`); such
a held raise is sent by `release_held` as soon as the lowerings it waits for are confirmed.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple

from ems import planner, rate_limit
from ems.bottleneck import bottleneck, shared_binding
from ems.bounds import MEASURED, Bound
from ems.capacity import Capacity, arrival_a, assess, capacity_without
from ems.closed_loop import probe
from ems.commands import SetLimit
from ems.limit_check import check_loads
from ems.meter_agreement import awaited, settling
from ems.meter_watch import Mode
from ems.mode_choice import mode_of
from ems.modes import SOLAR_MODES
from ems.phases import ZERO, non_negative, round_down, spread
from ems.problem_builder import build_problem
from ems.raise_gate import Loads, Others, check_raise, others_of, raised, room_a
from ems.rate_limit import Decision
from ems.rounding import Wanted, round_jointly
from ems.site import ConnectorConfig, ControlSettings
from ems.solver_port import AllocationSolver
from ems.state import ConnectorRuntime, HeldRaise, Outcome, Sent, SiteState
from optimizer.allocation import (
    Allocation,
    ConnectorAllocation,
    ConnectorState,
    PauseReason,
    SolveStatus,
)
from optimizer.problem import PhaseTriple, Problem

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


class _Plan(NamedTuple):
    """A steered connector's limits for this step. A named tuple rather than a frozen
    dataclass: one is made for every steered connector at every step."""

    target_a: float
    later_a: tuple[float, ...]
    decision: Decision
    explanation: str
    bottleneck: str | None

    @property
    def reason(self) -> str:
        return f"{self.explanation}; {self.decision.why}"

    @property
    def limits_a(self) -> tuple[float, ...]:
        """The limit now, then the planned ones after it."""
        return (self.decision.limit_a, *self.later_a)


def run_step(
    state: SiteState, settings: ControlSettings, solver: AllocationSolver, now: datetime
) -> StepResult:
    for runtime in state.connectors.values():
        probe(runtime, now, settings)
    capacity = assess(state, settings, now)
    steered: list[ConnectorRuntime] = []
    on_trial: list[ConnectorRuntime] = []
    for runtime in state.connectors.values():
        if state.is_planned(runtime, settings):
            steered.append(runtime)
        elif state.is_controlled(runtime):
            on_trial.append(runtime)
        else:
            runtime.outcome = Outcome(0.0, _idle_reason(state, runtime, settings, now), None)
    trials = _trials(state, on_trial, capacity, settings, now)
    full = _full_without_us(state, capacity) if steered else ()
    if full or not steered:
        for runtime in steered:  # a raise held from before would undo the pause
            runtime.held = None
        plans = {c.key: _paused(c, full, settings, now) for c in steered} | trials
        commands = _commands(state, steered + on_trial, plans, None, settings, now)
        return StepResult(commands, capacity, None)
    problem = build_problem(state, capacity, settings, now)
    allocation = _solve(state, solver, problem)
    step_s = problem.horizon.step_s if problem.horizon is not None else None
    by_id = {} if allocation is None else allocation.by_id()
    rounded = _round_targets(state, steered, by_id, problem, capacity, settings, now)
    plans = {
        c.key: _plan(
            state, c, allocation, by_id.get(c.key), rounded.get(c.key), capacity, settings, now
        )
        for c in steered
    }
    _enforce_limits(state, steered, plans, capacity)
    _gate_raises(state, steered, plans, capacity, step_s, settings, now)
    commands = _commands(state, steered + on_trial, plans | trials, step_s, settings, now)
    return StepResult(commands, capacity, allocation)


TRIAL_A = 6.0
"""The limit a session on probation is sent (or the connector's minimum, if higher): the
lowest current every EV charges at (IEC 61851-1), so that one that follows its limit shows
it by drawing little, and the others lose little of the room held for it meanwhile."""


def _trials(
    state: SiteState,
    on_trial: list[ConnectorRuntime],
    capacity: Capacity,
    settings: ControlSettings,
    now: datetime,
) -> dict[str, _Plan]:
    """The plans of the sessions on probation (`SiteState.on_probation`). Each counts at its
    maximum, held off the others' room by `capacity`, whatever it is sent; it is sent a
    trial limit (`_trial_a`), so that it can show it follows one. Where its maximum does not
    fit, the others are paused, as for a non-compliant charger, and an EV that follows its
    trial limit keeps the site within its limits."""
    plans: dict[str, _Plan] = {}
    for runtime in on_trial:
        trial_a = _trial_a(state, runtime, capacity, settings, now)
        decision = rate_limit.decide(runtime, trial_a, now, settings)
        if trial_a <= 0 and runtime.sent_for_session() is None and runtime.limit_a() <= 0:
            # its default holds it at nothing already: a pause sent now would keep it
            # paused for the dwell once the room comes (the others' pauses confirmed)
            decision = Decision(False, 0.0, "its trial limit waits for room proven free")
        elif decision.held_lowering:
            decision = rate_limit.release(decision, trial_a, "lowered at once")
        trial = (
            f"it is sent {trial_a:g} A until a sample shows it charging within its limit"
            if trial_a > 0
            else "it is sent nothing while no room is proven free for a trial limit"
        )
        explanation = (
            "on probation (drew more than allowed in an earlier session): its "
            f"{runtime.config.max_current_a:g} A maximum is held for it, and {trial}"
        )
        plans[runtime.key] = _Plan(trial_a, (), decision, explanation, None)
    return plans


def _trial_a(
    state: SiteState,
    runtime: ConnectorRuntime,
    capacity: Capacity,
    settings: ControlSettings,
    now: datetime,
) -> float:
    """`TRIAL_A` (within the connector's minimum and maximum); above the limit in force,
    no more than the room proven free for it besides the maximum held for it (a raise, as
    any other, goes only into room the others' confirmed limits leave); nothing where that
    is below its minimum."""
    config = runtime.config
    trial_a = min(max(TRIAL_A, config.min_current_a), config.max_current_a)
    current_a = runtime.limit_a()
    if trial_a > current_a:
        own = state.bound_load(runtime, now, settings)
        loads = {**proven_loads(state, settings, now), runtime.key: (config, ZERO)}
        room = room_a(
            state.site,
            capacity_without(capacity, state, runtime, own),
            loads,
            runtime.key,
            runtime.active_phases,
        )
        trial_a = max(current_a, min(trial_a, math.floor(room * 10 + 1e-6) / 10))
    return trial_a if trial_a >= max(config.min_current_a, 1e-9) else 0.0


def _full_without_us(state: SiteState, capacity: Capacity) -> tuple[str, ...]:
    """The limits that what the controller does not steer fills alone: the base load and
    the connectors it cannot steer, each at what it may draw (a charger not yet proven
    below its maximum counts at that, as at start-up until the default profiles are
    accepted). Logged once while it lasts."""
    full = check_loads(state.site, capacity.fixed_load_a, capacity.circuit_reserved_a, [])
    message = (
        f"what the controller does not steer fills {', '.join(full)} alone (base load, and "
        "connectors at what they may draw); every steered session paused until that falls"
    )
    if not full:
        if state.reported.pop("full", None) is not None:
            log.info("room for the steered sessions again")
    elif state.reported.get("full") != message:
        log.warning("%s", message)
        state.reported["full"] = message
    return full


def _paused(
    runtime: ConnectorRuntime, full: tuple[str, ...], settings: ControlSettings, now: datetime
) -> _Plan:
    explanation = f"paused: what the controller does not steer fills {', '.join(full)} alone"
    decision = rate_limit.decide(runtime, 0.0, now, settings)
    if decision.held_lowering:
        decision = rate_limit.release(decision, 0.0, "lowered at once")
    return _Plan(0.0, (), decision, explanation, None)


def _commands(
    state: SiteState,
    steered: list[ConnectorRuntime],
    plans: dict[str, _Plan],
    step_s: float | None,
    settings: ControlSettings,
    now: datetime,
) -> list[SetLimit]:
    """Each steered connector's outcome; the profiles of those whose plan sends one."""
    commands: list[SetLimit] = []
    for runtime in steered:
        plan = plans[runtime.key]
        reason = plan.reason
        runtime.outcome = Outcome(plan.decision.limit_a, reason, plan.bottleneck)
        if plan.decision.send:
            commands.append(_send(state, runtime, plan.limits_a, step_s, reason, settings, now))
    return commands


def release_held(
    state: SiteState, settings: ControlSettings, now: datetime, stepped: Capacity | None
) -> list[SetLimit]:
    """Send the held raises that now fit the proven bounds; drop those overtaken (the
    session changed, or the next step is due to plan afresh).

    The base load is the step's (`stepped`) while no newer meter reading came: taken
    again off the same reading, the draw of connectors whose limits the step just sent
    would count as base load (see `counted_draw`), and no raise would ever fit.
    """
    held = [c for c in state.connectors.values() if c.held is not None]
    if not held or settling(state):
        return []
    capacity = assess(state, settings, now)
    same_reading = stepped is not None and stepped.reading_at == capacity.reading_at
    if stepped is not None and same_reading and stepped.mode is capacity.mode:
        capacity = replace(capacity, base_load_a=stepped.base_load_a)
    bounds = _planned_bounds(state, settings, now)
    loads = _loads_of(bounds)
    commands: list[SetLimit] = []
    for runtime in held:
        raise_ = runtime.held
        assert raise_ is not None
        stale = (now - raise_.since).total_seconds() >= settings.period_s
        if (
            stale
            or not state.is_planned(runtime, settings)
            or raise_.transaction_id != (runtime.transaction_id())
        ):
            runtime.held = None
            continue
        peak = _peak(raise_.limits_a, raise_.step_s, settings)
        wanted = spread(runtime.active_phases, peak)
        # its bound is as read above: sending to another changed only that one's
        level = _level(runtime, loads, bounds[runtime.key][1].proven, settings, now)
        if not check_raise(state.site, capacity, loads, runtime.key, wanted, level).fits:
            continue
        runtime.held = None
        reason = f"{raise_.reason}; sent once the room it needs was confirmed free"
        commands.append(
            _send(state, runtime, raise_.limits_a, raise_.step_s, reason, settings, now)
        )
        runtime.outcome = Outcome(raise_.limits_a[0], reason, runtime.outcome.bottleneck)
        # sending changed this connector's bound only
        loads = {**loads, runtime.key: (runtime.config, state.bound_load(runtime, now, settings))}
    return commands


def proven_loads(state: SiteState, settings: ControlSettings, now: datetime) -> Loads:
    """Every planned connector at what it may draw as far as the controller can prove (a
    session on probation is held at its bound in the capacity's reserved load)."""
    return _loads_of(_planned_bounds(state, settings, now))


def _planned_bounds(
    state: SiteState, settings: ControlSettings, now: datetime
) -> dict[str, tuple[ConnectorRuntime, Bound]]:
    """Every planned connector with its bound (`SiteState.bound`), read once: the raise
    gate needs both what it may draw (`_loads_of`) and whether that is proven (`_level`).
    A bound so read holds until a profile is sent to or answered by that connector."""
    planned = [c for c in state.connectors.values() if state.is_planned(c, settings)]
    return _bounds_of(state, planned, settings, now)


def _bounds_of(
    state: SiteState, planned: list[ConnectorRuntime], settings: ControlSettings, now: datetime
) -> dict[str, tuple[ConnectorRuntime, Bound]]:
    """`_planned_bounds` of connectors already known to be the planned ones, in the
    state's order."""
    return {c.key: (c, state.bound(c, now, settings)) for c in planned}


def _loads_of(
    bounds: dict[str, tuple[ConnectorRuntime, Bound]],
) -> dict[str, tuple[ConnectorConfig, PhaseTriple]]:
    """The bounds on the site phases each EV uses (`SiteState.bound_load`)."""
    return {
        key: (c.config, spread(c.active_phases, bound.limit_a) if c.ev_present else ZERO)
        for key, (c, bound) in bounds.items()
    }


def _level(
    runtime: ConnectorRuntime,
    loads: Loads,
    proven: bool,
    settings: ControlSettings,
    now: datetime,
) -> PhaseTriple:
    """What the connector draws now as far as the controller counts on: its bound; but
    for one counted at its maximum for want of a confirmed profile (a fresh start, or the
    reaction time after its first one), the draw a fresh sample taken since its last
    limit was sent shows (plus the tolerance a charger is allowed over its limit), and
    without such a sample the limit last sent to it (its EV may well hold to that one,
    answered or not). Those maximums add up beyond any fuse, so what holds the site then
    is what such EVs actually draw, and sending one more is a raise. `proven`: whether
    its bound is proven (`Bound.proven`)."""
    bound_a = loads[runtime.key][1]
    if proven:
        return bound_a
    draw = runtime.drawn
    sent = runtime.sent_for_session()
    last_set = runtime.fallback_at if sent is None else sent.at
    fresh = draw is not None and (now - draw.at).total_seconds() <= settings.sample_stale_s
    if draw is not None and fresh and (last_set is None or draw.at > last_set):
        seen_a = max(draw.current_a) + settings.noncompliance_tolerance_a
    else:
        seen_a = runtime.limit_a()
    seen = spread(runtime.active_phases, seen_a)
    return (min(bound_a[0], seen[0]), min(bound_a[1], seen[1]), min(bound_a[2], seen[2]))


def _peak(limits_a: tuple[float, ...], step_s: float | None, settings: ControlSettings) -> float:
    """The highest limit of the schedule a session profile will carry: the periods that
    start before it lapses (a charger follows them without asking)."""
    if step_s is None or len(limits_a) == 1:
        # one period, the first limit's (read for every steered session at every step)
        return round_down(limits_a[0])
    backdate_s = settings.start_schedule_backdate_s
    duration_s = backdate_s + settings.profile_validity_s
    periods, _ = planner.schedule_periods(limits_a, step_s, 1, backdate_s, duration_s, 10**6)
    return max(p.limit_a for p in periods)


def _gate_raises(
    state: SiteState,
    steered: list[ConnectorRuntime],
    plans: dict[str, _Plan],
    capacity: Capacity,
    step_s: float | None,
    settings: ControlSettings,
    now: datetime,
) -> None:
    """Hold every raise that does not fit the proven bounds of everything else; the
    smallest raises are tried first.

    `steered` are the planned connectors as the step found them, and still are: nothing
    the planned test or a bound reads changes before `_commands` sends (so their bounds
    are read without testing every connector again)."""
    bounds = _bounds_of(state, steered, settings, now)
    loads = _loads_of(bounds)
    wanted: list[tuple[float, ConnectorRuntime, float]] = []
    lowering: list[str] = []
    levels: dict[str, PhaseTriple] = {}
    for runtime in steered:
        runtime.held = None
        plan = plans[runtime.key]
        peak = _peak(plan.limits_a, step_s, settings)
        proven = bounds[runtime.key][1].proven
        level = levels[runtime.key] = _level(runtime, loads, proven, settings, now)
        extra = peak - max(level)
        # Never held: a lower session limit than the one sent (holding it would keep that).
        sent = runtime.sent_for_session()
        raising = sent is None or plan.decision.limit_a > sent.limit_a
        raising = raising or peak > max(loads[runtime.key][1])
        if plan.decision.send and extra > 1e-9 and raising:
            wanted.append((extra, runtime, peak))
        elif plan.decision.send and peak < max(loads[runtime.key][1]) - 1e-9:
            lowering.append(runtime.key)
    meter_wait = awaited(state) if settling(state) else None
    waiting: list[str] | None = None
    for _, runtime, peak in sorted(wanted, key=lambda item: (item[0], item[1].key)):
        plan = plans[runtime.key]
        if meter_wait is not None:
            plans[runtime.key] = _hold(runtime, plan, (), [], step_s, now, meter_wait)
            continue
        load = spread(runtime.active_phases, peak)
        level = levels[runtime.key]
        # summed once: a raise that does not fit asks for them again for its part
        others = others_of(state.site, capacity, loads, runtime.key)
        verdict = check_raise(state.site, capacity, loads, runtime.key, load, level, others)
        if verdict.fits:
            config, current = loads[runtime.key]
            loads[runtime.key] = (config, raised(current, load))
            continue
        if waiting is None:  # once per step: it looks at every connector
            waiting = _unconfirmed(state, settings, now, lowering, bounds)
        held = _hold(runtime, plan, verdict.broken, waiting, step_s, now)
        part_a = _part(state, capacity, loads, others, runtime, level, plan, settings)
        if part_a is not None:
            held = _in_part(plan, held, part_a)
            config, current = loads[runtime.key]
            loads[runtime.key] = (config, raised(current, spread(runtime.active_phases, part_a)))
        plans[runtime.key] = held


def _part(
    state: SiteState,
    capacity: Capacity,
    loads: Loads,
    others: Others,
    runtime: ConnectorRuntime,
    level: PhaseTriple,
    plan: _Plan,
    settings: ControlSettings,
) -> float | None:
    """The part of a held raise that fits the proven room now (on the 0.1 A grid, and no
    more than the plan wants now), if it is worth sending: enough to charge at and beyond
    the deadband. The EV charges on that at once instead of waiting for the lowerings the
    whole raise needs. `others`: every other connector's load in `loads`, summed."""
    room = room_a(state.site, capacity, loads, runtime.key, runtime.active_phases, others)
    part_a = min(math.floor(room * 10 + 1e-6) / 10, plan.decision.limit_a)
    current_a = max(level)
    if part_a < runtime.config.min_current_a or part_a <= current_a:
        return None
    if current_a > 0 and part_a - current_a <= rate_limit.deadband_a(current_a, settings):
        return None
    load = spread(runtime.active_phases, part_a)
    if not check_raise(state.site, capacity, loads, runtime.key, load, level, others).fits:
        return None
    return part_a


def _in_part(plan: _Plan, held: _Plan, part_a: float) -> _Plan:
    """The held plan, sending `part_a` now (and no more later in its schedule) while the
    whole raise waits."""
    why = f"{part_a:g} A now, the room proven free; {held.decision.why}"
    later = tuple(min(limit_a, part_a) for limit_a in plan.later_a)
    return _Plan(
        held.target_a, later, Decision(True, part_a, why), held.explanation, held.bottleneck
    )


def _hold(
    runtime: ConnectorRuntime,
    plan: _Plan,
    broken: tuple[str, ...],
    waiting: list[str],
    step_s: float | None,
    now: datetime,
    meter_wait: str = "our chargers' last change",
) -> _Plan:
    """Keep the limit in force and remember the raise, with who (or what change the site
    meter has yet to show) it waits for."""
    assert runtime.session is not None
    if broken:
        on = f"lower limits of {', '.join(waiting)} not yet confirmed" if waiting else ""
        why = f"raise to {plan.decision.limit_a:g} A waits for room under {', '.join(broken)}"
        why = f"{why}: {on}" if on else why
    else:
        why = f"raise to {plan.decision.limit_a:g} A waits for the site meter to show {meter_wait}"
    runtime.held = HeldRaise(
        plan.limits_a, step_s, plan.reason, runtime.session.transaction_id, now
    )
    kept = Decision(False, runtime.limit_a(), why)
    return _Plan(plan.target_a, (), kept, plan.explanation, plan.bottleneck)


_NAMED_AT_MOST = 3


def _unconfirmed(
    state: SiteState,
    settings: ControlSettings,
    now: datetime,
    lowering: list[str],
    bounds: dict[str, tuple[ConnectorRuntime, Bound]],
) -> list[str]:
    """Connectors that may still draw more than the limit set for them: lowered in this
    step, lowered before and not yet accepted, or accepted less than the reaction time
    ago. `bounds`: the steered connectors' as `_gate_raises` read them."""
    keys = list(lowering)
    keys += [
        c.key
        for c in state.connectors.values()
        if c.key not in lowering
        and c.ev_present
        and _profiles_a(state, c, bounds, settings, now) > c.limit_a()
    ]
    more = len(keys) - _NAMED_AT_MOST
    return keys[:_NAMED_AT_MOST] + ([f"{more} more"] if more > 0 else [])


def _profiles_a(
    state: SiteState,
    runtime: ConnectorRuntime,
    bounds: dict[str, tuple[ConnectorRuntime, Bound]],
    settings: ControlSettings,
    now: datetime,
) -> float:
    """What the connector's profiles let it draw (`SiteState.bound` without the draw): its
    bound in `bounds` where no draw raised it (it is then the profiles' alone, and still
    in force: nothing it reads changes before `_commands` sends), else read again."""
    found = bounds.get(runtime.key)
    if found is not None and found[1].source != MEASURED:
        return found[1].limit_a
    return state.bound(runtime, now, settings, with_draw=False).limit_a


def _solve(state: SiteState, solver: AllocationSolver, problem: Problem) -> Allocation | None:
    """The solver's allocation; None if it raised (its own failures come back as a status).
    The first failure of a run is logged with its traceback, the repeats only at debug."""
    try:
        allocation = solver.solve(problem)
    except Exception:
        first = "solver" not in state.reported
        state.reported["solver"] = "raised"
        (log.exception if first else log.debug)(
            "the allocation solver raised; holding sessions at their fallbacks"
        )
        return None
    if state.reported.pop("solver", None) is not None:
        log.info("the allocation solver works again")
    return allocation


def _round_targets(
    state: SiteState,
    steered: list[ConnectorRuntime],
    by_id: dict[str, ConnectorAllocation],
    problem: Problem,
    capacity: Capacity,
    settings: ControlSettings,
    now: datetime,
) -> dict[str, float]:
    """Every steered connector's current now on the chargers' 0.1 A grid, rounded jointly
    (`ems.rounding`): floored, then the room the floors freed handed back a step at a time
    where it fits the very limits the problem was solved under (the fixed load, at least
    0, on the site; each circuit's reserved load on its busiest phase, as
    `ems.problem_builder` lowers the circuit's limit by it) and the connector's maximum.
    A connector without an allocation counts at its fallback, and gets no step."""
    if not by_id:
        return {}
    connectors = {c.id: c for c in problem.connectors}
    wanted: list[Wanted] = []
    for runtime in steered:
        found = by_id.get(runtime.key)
        connector = connectors.get(runtime.key)
        if found is None or connector is None:
            fallback_a = round_down(runtime.fallback_a)
            wanted.append(Wanted(runtime.key, runtime.config, runtime.active_phases, fallback_a))
            continue
        current_a = 0.0 if runtime.in_pause_dwell(now, settings.pause_dwell_s) else found.now_a
        cap_a = connector.max_current_a
        if connector.ev_max_current_a is not None:
            cap_a = min(cap_a, connector.ev_max_current_a)
        if mode_of(state, runtime) in SOLAR_MODES:
            # a share of the surplus is a budget, not an EV's maximum: not rounded up past
            cap_a = round_down(cap_a)
        sent = runtime.sent_for_session()
        wanted.append(
            Wanted(
                runtime.key,
                runtime.config,
                runtime.active_phases,
                current_a,
                cap_a,
                connector.min_current_a,
                connector.priority,
                None if sent is None else sent.limit_a,
            )
        )
    circuits = {
        cid: (max(load), max(load), max(load)) for cid, load in capacity.circuit_reserved_a.items()
    }
    return round_jointly(state.site, non_negative(capacity.fixed_load_a), circuits, wanted)


def _plan(
    state: SiteState,
    runtime: ConnectorRuntime,
    allocation: Allocation | None,
    found: ConnectorAllocation | None,
    rounded_a: float | None,
    capacity: Capacity,
    settings: ControlSettings,
    now: datetime,
) -> _Plan:
    scarce = None
    if allocation is not None:
        scarce = shared_binding(
            state.site, runtime.config, runtime.active_phases, allocation.binding
        )
    if allocation is None or found is None:
        target = round_down(runtime.fallback_a)
        later: tuple[float, ...] = ()
        explanation = "no allocation (solver error): held at its fallback"
        limit_name = None
    else:
        target = round_down(found.now_a) if rounded_a is None else rounded_a
        later = found.current_a[1:]
        limit_name = bottleneck(runtime.config, allocation.binding, scarce)
        explanation = _explain(
            runtime, found, target, allocation, capacity, limit_name, settings, now
        )
    if runtime.in_pause_dwell(now, settings.pause_dwell_s):
        target = 0.0
    decision = rate_limit.decide(runtime, target, now, settings, scarce)
    return _Plan(target, later, decision, explanation, limit_name)


def _explain(
    runtime: ConnectorRuntime,
    found: ConnectorAllocation,
    target_a: float,
    allocation: Allocation,
    capacity: Capacity,
    limit_name: str | None,
    settings: ControlSettings,
    now: datetime,
) -> str:
    parts: list[str] = []
    if capacity.mode is Mode.CONSERVATIVE:
        parts.append(f"conservative ({capacity.reason})")
    if allocation.status is not SolveStatus.OPTIMAL:
        parts.append(f"optimizer safe fallback ({allocation.status.value})")
    if runtime.in_pause_dwell(now, settings.pause_dwell_s):
        parts.append("paused: waiting out the minimum pause")
    elif found.state is ConnectorState.PAUSED:
        reason = found.reason
        parts.append(_PAUSE_TEXT.get(reason, "paused") if reason is not None else "paused")
    else:
        share = f"{target_a:g} A per phase"
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
        state.reported.pop("pause", None)
        return
    message = f"allocation exceeds {', '.join(broken)}; pausing every steered session"
    if state.reported.get("pause") != message:
        log.error("%s", message)
        state.reported["pause"] = message
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
    limits_a: tuple[float, ...],
    step_s: float | None,
    reason: str,
    settings: ControlSettings,
    now: datetime,
) -> SetLimit:
    assert runtime.session is not None
    charger = state.charger_of(runtime)
    max_periods = settings.max_schedule_periods
    if charger.max_periods is not None:
        max_periods = max(1, min(max_periods, charger.max_periods))
    limit = limits_a[0]
    command = planner.session_profile(
        runtime,
        limits_a,
        step_s,
        now,
        settings,
        state.site.limits.voltage_v,
        f"{limit:g} A per phase: {reason}",
        max_periods,
    )
    runtime.sent = Sent(limit, now, runtime.session.transaction_id, command)
    runtime.proof.tx.sent(command)
    if limit <= 0:
        runtime.paused_at = runtime.paused_at or now
    else:
        runtime.paused_at = None
    return command


def _idle_reason(
    state: SiteState, runtime: ConnectorRuntime, settings: ControlSettings, now: datetime
) -> str:
    if runtime.unconfigured:
        bound = state.bound(runtime, now, settings)
        return (
            f"charger not in the configuration: counted at {bound.limit_a:g} A per phase, "
            f"{bound.source}; configure it to let it charge"
        )
    uncontrolled = runtime.uncontrolled_reason
    if uncontrolled is not None:
        bound = state.bound(runtime, now, settings)
        return f"uncontrolled ({uncontrolled}): counted at {bound.limit_a:g} A, {bound.source}"
    charger = state.charger_of(runtime)
    if not charger.smart_charging:
        return "charger without smart charging: counted at its maximum"
    if not charger.online:
        if runtime.ev_present:
            bound = state.bound(runtime, now, settings)
            return f"charger offline: counted at {bound.limit_a:g} A, {bound.source}"
        return f"charger offline{_arrival_room(state, runtime, settings, now)}"
    if runtime.ev_present:
        bound = state.bound(runtime, now, settings)
        return f"EV plugged in, no session yet: counted at {bound.limit_a:g} A, {bound.source}"
    return f"no EV{_arrival_room(state, runtime, settings, now)}"


def _arrival_room(
    state: SiteState, runtime: ConnectorRuntime, settings: ControlSettings, now: datetime
) -> str:
    amps = arrival_a(state, runtime, settings, now) if settings.reserve_for_arrivals else 0.0
    return f"; {amps:g} A held for an arriving EV" if amps > 0 else ""
