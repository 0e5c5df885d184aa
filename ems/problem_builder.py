"""SiteState → optimizer.Problem.

Every configured connector and circuit is in every problem, so the optimizer's persistent
model keeps its shape from step to step: a connector we do not steer this step is only
marked `ev_present=False`. Connectors we do not steer are counted in the fixed load instead
(`capacity.reserved_a` on the site, and on each circuit by lowering its limit by the
reserved current of its most loaded phase).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ems.capacity import Capacity
from ems.energy_need import remaining_need_wh
from ems.forecast_steps import ForecastSteps
from ems.mode_choice import mode_of
from ems.modes import SOLAR_MODES, apply_modes, paid_solar
from ems.net_import import import_besides_ours, load_forecast
from ems.phases import non_negative
from ems.site import ChargingMode, ControlSettings
from ems.solar_gate import step_gates
from ems.state import ConnectorRuntime, SiteState
from ems.urgency import urgency_weight
from optimizer.problem import Circuit, Connector, Horizon, Lookahead, PowerPeriod, Problem


def build_problem(
    state: SiteState, capacity: Capacity, settings: ControlSettings, now: datetime
) -> Problem:
    connectors = tuple(_connector(state, c, settings, now) for c in state.connectors.values())
    modes = _modes(state)
    # read once: the surplus and the money plan both start from it
    net_w = _net_import_w(state, settings, now)
    surplus_w = _surplus_w(state, modes, net_w)
    voltage_v = state.site.limits.voltage_v
    # Each build is one control step: the surplus hysteresis of the solar sessions steps
    # with it (`ems.solar_gate`), and their gates are kept in the state. A session held
    # out of this step (its pause dwell) keeps its gate, counted as if present.
    solar = {
        key
        for key, runtime in state.connectors.items()
        if runtime.session is not None and modes[key] is ChargingMode.SOLAR
    }
    candidates = tuple(replace(c, ev_present=True) if c.id in solar else c for c in connectors)
    was_open = {key for key, gate in state.solar_gates.items() if gate.open}
    state.solar_gates = step_gates(
        state.solar_gates,
        solar,
        paid_solar(candidates, modes, surplus_w, voltage_v),
        now,
        settings.solar_enable_delay_s,
        settings.solar_disable_delay_s,
    )
    open_solar = {key for key, gate in state.solar_gates.items() if gate.open}
    opened = open_solar - was_open
    if opened:
        connectors = _out_of_dwell(state, connectors, opened, settings, now)
    connectors = apply_modes(connectors, modes, surplus_w, voltage_v, open_solar)
    base = non_negative(capacity.fixed_load_a)
    lookahead = _lookahead(state, connectors, net_w, settings, now) if settings.lookahead else None
    return Problem(
        site=state.site.limits,
        connectors=connectors,
        base_load_a=base,
        circuits=_circuits(state, capacity),
        horizon=_horizon(connectors, base, settings, now),
        lookahead=lookahead,
    )


def _out_of_dwell(
    state: SiteState,
    connectors: tuple[Connector, ...],
    opened: set[str],
    settings: ControlSettings,
    now: datetime,
) -> tuple[Connector, ...]:
    """The connectors with the pause dwell of the sessions whose solar gate just opened
    ended: the gate already waited out the surplus's flapping, so their EVs start now
    rather than after `pause_dwell_s`."""
    for key in opened:
        state.connectors[key].paused_at = None
    return tuple(
        _connector(state, state.connectors[c.id], settings, now) if c.id in opened else c
        for c in connectors
    )


def _lookahead(
    state: SiteState,
    connectors: tuple[Connector, ...],
    net_w: float | None,
    settings: ControlSettings,
    now: datetime,
) -> Lookahead:
    """The look-ahead to the last stated departure, with the tariff's prices over it and
    its demand charge against the billing period's peak so far; `net_w` the site's import
    besides our chargers now (`_net_import_w`)."""
    tariff = state.site.tariff
    departures = [c.departure for c in connectors if c.departure is not None and c.departure > now]
    if tariff.is_empty or not departures:
        return Lookahead(now, settings.period_s)
    return Lookahead(
        now,
        settings.period_s,
        prices=tariff.periods(now, max(departures)),
        peak_price_per_kw=tariff.demand_price_per_kw,
        peak_so_far_w=max(state.demand.peak_w, 0.0),
        base_import=_base_import(state, net_w, now, max(departures)),
        export_price_per_kwh=tariff.export_price_per_kwh,
    )


def _modes(state: SiteState) -> dict[str, ChargingMode]:
    return {key: mode_of(state, runtime) for key, runtime in state.connectors.items()}


def _surplus_w(state: SiteState, modes: dict[str, ChargingMode], net_w: float | None) -> float:
    """What the site would export now without our chargers that charge from the sun: the
    net import besides all of them (`net_w`, `_net_import_w`), plus what the others (by
    `modes`, each connector's mode now) last drew (0 while it imports, or without a fresh
    reading)."""
    if net_w is None:
        return 0.0
    voltage_v = state.site.limits.voltage_v
    others_w = 0.0
    for key, runtime in state.connectors.items():
        draw = runtime.drawn
        if modes[key] not in SOLAR_MODES and draw is not None:
            others_w += sum(draw.current_a) * voltage_v
    return max(-(net_w + others_w), 0.0)


def _net_import_w(state: SiteState, settings: ControlSettings, now: datetime) -> float | None:
    """The site's import besides our chargers behind the meter, off the last fresh site
    reading (negative while PV exports); None without one."""
    reading = state.meter.last_good
    if reading is None or (now - reading.at).total_seconds() > settings.meter_stale_s:
        return None
    return import_besides_ours(state, reading)


def _base_import(
    state: SiteState, net_w: float | None, now: datetime, until: datetime
) -> tuple[PowerPeriod, ...]:
    """What the site imports besides our chargers (W, negative while PV exports): the
    last fresh site reading less our chargers behind the meter (`net_w`), held on, and moved along
    the forecasts of the site's own load and its PV where there are some (the load's, to
    `until`, learned from the site's history when the site gives none:
    `ems.load_history`). Only money is planned with it, never a limit, so it is read even
    off a meter not trusted for the limits (one that reads less than our chargers draw is
    what PV behind the meter looks like); empty without a fresh reading."""
    if net_w is None:
        return ()
    return _forecast_steps(state, now, until).moved(now, net_w)


def _forecast_steps(state: SiteState, now: datetime, until: datetime) -> ForecastSteps:
    """The load forecast (`load_forecast`) and the PV's on one line: the site's own, drawn
    once for the site (`SiteConfig.forecast_steps`), where it gives a load forecast."""
    site = state.site
    if site.base_forecast:
        return site.forecast_steps
    return ForecastSteps.of(load_forecast(state, now, until), site.pv_forecast)


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
    # every connector every step: one without a session skips the session's checks
    steered = (
        session is not None
        and state.is_planned(runtime, settings)
        and not runtime.in_pause_dwell(now, settings.pause_dwell_s)
    )
    if session is None or not steered:
        return config.without_ev
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
        ev_tapering=session.tapering,
        priority=priority,
        arrival=session.started_at,
        departure=session.departure,
        energy_need_wh=need_wh,
        previous_current_a=None if sent is None else sent.limit_a,
    )


def _ev_max(stated_a: float | None, taper_a: float | None) -> float | None:
    if stated_a is None:
        return taper_a
    return stated_a if taper_a is None else min(stated_a, taper_a)


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
