"""SiteState → optimizer.Problem.

Every configured connector and circuit is in every problem, so the optimizer's persistent
model keeps its shape from step to step: a connector we do not steer this step is only
marked `ev_present=False`. Connectors we do not steer are counted in the fixed load instead
(`capacity.reserved_a` on the site, and on each circuit by lowering its limit by the
reserved current of its most loaded phase).
"""

from __future__ import annotations

from datetime import datetime

from ems.capacity import Capacity
from ems.energy_need import remaining_need_wh
from ems.phases import non_negative
from ems.site import ControlSettings
from ems.state import ConnectorRuntime, SiteState
from ems.urgency import urgency_weight
from optimizer.problem import Circuit, Connector, Horizon, Lookahead, Problem


def build_problem(
    state: SiteState, capacity: Capacity, settings: ControlSettings, now: datetime
) -> Problem:
    connectors = tuple(_connector(state, c, settings, now) for c in state.connectors.values())
    base = non_negative(capacity.fixed_load_a)
    return Problem(
        site=state.site.limits,
        connectors=connectors,
        base_load_a=base,
        circuits=_circuits(state, capacity),
        horizon=_horizon(connectors, base, settings, now),
        lookahead=Lookahead(now, settings.period_s) if settings.lookahead else None,
    )


def _circuits(state: SiteState, capacity: Capacity) -> tuple[Circuit, ...]:
    circuits = []
    for circuit in state.site.circuits:
        reserved = max(capacity.circuit_reserved_a.get(circuit.id, (0.0, 0.0, 0.0)))
        limit = max(circuit.limit_a - reserved, 0.0)
        circuits.append(Circuit(circuit.id, limit, circuit.parent))
    return tuple(circuits)


def _connector(
    state: SiteState, runtime: ConnectorRuntime, settings: ControlSettings, now: datetime
) -> Connector:
    config = runtime.config
    session = runtime.session
    steered = state.is_controlled(runtime) and not runtime.in_pause_dwell(
        now, settings.pause_dwell_s
    )
    if session is None or not steered:
        return Connector(
            id=config.key,
            phases=config.phases,
            max_current_a=config.max_current_a,
            circuit=config.circuit,
            min_current_a=config.min_current_a,
            priority=config.priority,
        )
    min_a = config.min_current_a if session.ev_min_a is None else session.ev_min_a
    ev_max = _ev_max(session.ev_max_a, runtime.taper.bound_a)
    need_wh = remaining_need_wh(session)
    priority = config.priority
    if settings.priority_from_laxity:
        max_a = config.max_current_a if ev_max is None else min(config.max_current_a, ev_max)
        priority *= urgency_weight(
            need_wh,
            session.departure,
            max_a,
            len(runtime.active_phases),
            now,
            state.site.limits.voltage_v,
            settings.period_s,
        )
    sent = runtime.sent_for_session()
    return Connector(
        id=config.key,
        phases=config.phases,
        max_current_a=config.max_current_a,
        circuit=config.circuit,
        min_current_a=min(min_a, config.max_current_a),
        ev_present=True,
        ev_phases=session.ev_phases,
        ev_max_current_a=ev_max,
        priority=priority,
        arrival=session.started_at,
        departure=session.departure,
        energy_need_wh=need_wh,
        previous_current_a=None if sent is None else sent.limit_a,
    )


def _ev_max(stated_a: float | None, taper_a: float | None) -> float | None:
    bounds = [b for b in (stated_a, taper_a) if b is not None]
    return min(bounds) if bounds else None


def _horizon(
    connectors: tuple[Connector, ...],
    base_load_a: tuple[float, float, float],
    settings: ControlSettings,
    now: datetime,
) -> Horizon | None:
    """A look-ahead only when enabled and some session says when it leaves or what it needs."""
    if settings.horizon_steps <= 0:
        return None
    if not any(c.departure is not None or c.energy_need_wh is not None for c in connectors):
        return None
    steps = settings.horizon_steps
    return Horizon(
        start=now,
        step_s=settings.horizon_step_s,
        steps=steps,
        base_load_a=(base_load_a,) * steps,
    )
