"""A read-only picture of the controller for status pages and the dry-run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ems.capacity import Capacity
from ems.energy_need import remaining_need_wh
from ems.events import ConnectorStatus
from ems.fallback import FallbackPlan
from ems.grid_cap import step_at
from ems.load_history import Slots
from ems.meter_watch import Mode
from ems.mode_choice import mode_of
from ems.net_import import load_forecast
from ems.phases import ZERO, add
from ems.site import ControlSettings
from ems.state import ChargerRuntime, ConnectorRuntime, SiteState
from optimizer.allocation import Allocation
from optimizer.problem import PhaseTriple, PowerPeriod, PricePeriod

PRICES_AHEAD = timedelta(hours=24)
"""How far ahead the view lists the import price."""
MAX_PRICES_AHEAD = 96
"""At most this many price periods in the view: a day of quarter hours."""


@dataclass(frozen=True)
class ConnectorView:
    key: str
    charger_id: str
    connector_id: int
    status: str | None
    state: str
    """charging, paused, idle, plugged (EV without a session), offline, uncontrolled, or
    unconfigured (a charger admitted without configuration, as a whole)."""
    limit_a: float
    """The per-phase limit the controller set (the fallback when no session profile
    applies)."""
    allowed_a: PhaseTriple
    """What the connector may draw on each site phase as far as the controller can prove
    (its bound; zero without an EV)."""
    drawn_a: PhaseTriple | None
    reason: str
    bottleneck: str | None
    fallback_a: float
    transaction_id: str | None
    taper_bound_a: float | None
    non_compliant: bool
    need_wh: float | None = None
    """The session's energy still to deliver, when its need is known."""
    departure: datetime | None = None
    bound_a: float = 0.0
    """What the connector may draw per phase as far as the controller can prove."""
    bound_source: str = ""
    """What that bound rests on (its session profile, its default, its maximum...)."""
    bound_proven: bool = True
    """False while nothing the charger confirmed bounds it (counted at its maximum)."""
    charging_mode: str = "planned"
    """How its sessions charge (`ems.site.ChargingMode`'s value)."""
    caught_before: bool = False
    """Its charger was caught drawing more than allowed (now or in an earlier session):
    its sessions start on probation (`SiteState.on_probation`)."""


@dataclass(frozen=True)
class ControllerView:
    at: datetime | None
    """When the last control step ran."""
    mode: Mode
    mode_reason: str
    site_limit_a: float
    """The per-phase site limit in force (see `configured_site_limit_a`)."""
    site_current_a: PhaseTriple | None
    """The site meter's last good reading per phase."""
    base_load_a: PhaseTriple
    reserved_a: PhaseTriple
    allowed_total_a: PhaseTriple
    """Base load plus reserved load plus every connector's allowance, per site phase."""
    meter_age_s: float | None
    solve_status: str | None
    solve_ms: float | None
    binding: tuple[str, ...]
    connectors: tuple[ConnectorView, ...]
    fallback_explanation: tuple[str, ...]
    configured_site_limit_a: float | None = None
    """The configured per-phase site limit (the main fuse)."""
    site_power_limit_w: float | None = None
    """The total power cap in force; None for none."""
    configured_power_limit_w: float | None = None
    site_limit_reason: str | None = None
    """Why the limit in force differs from the configured one; None when it does not."""
    held_raises: tuple[str, ...] = ()
    """Connectors whose raise waits for room that lowerings elsewhere have yet to free."""
    untrusted_circuit_meters: tuple[str, ...] = ()
    """Why each circuit meter not trusted now is not (its circuit then counts the highest
    base load it measured lately: `ems.circuit_meters`)."""
    demand_peak_w: float = 0.0
    """The billing period's highest completed window average import so far (`ems.demand`)."""
    price_per_kwh: float | None = None
    """The import price now by the site's tariff; None without one."""
    demand_period_start: datetime | None = None
    """The start of the billing period `demand_peak_w` is counted in; None before any."""
    prices_ahead: tuple[PricePeriod, ...] = ()
    """The import price from now over the next `PRICES_AHEAD`, one period per change."""
    load_ahead: tuple[PowerPeriod, ...] = ()
    """The building's load the money plan expects besides our chargers (W) from now over
    the next `PRICES_AHEAD`, one period per quarter hour; empty until it is known."""
    load_slots: Slots = ()
    """What the site imported besides our chargers per completed quarter hour of the last
    days (`ems.load_history`), to keep across a restart; the same tuple until one closes."""

    @property
    def unproven(self) -> tuple[str, ...]:
        """Connectors counted at their maximum because no profile of theirs is confirmed."""
        return tuple(c.key for c in self.connectors if not c.bound_proven)


def build_view(
    state: SiteState,
    capacity: Capacity | None,
    allocation: Allocation | None,
    fallbacks: FallbackPlan,
    last_step: datetime | None,
    now: datetime | None,
    settings: ControlSettings,
) -> ControllerView:
    at = now if now is not None else last_step
    moment = at if at is not None else datetime.min.replace(tzinfo=UTC)
    connectors = tuple(
        _connector_view(state, c, moment, settings) for c in state.connectors.values()
    )
    base = capacity.base_load_a if capacity is not None else state.site.worst_base_load_a
    reserved = capacity.reserved_a if capacity is not None else ZERO
    total = add(base, reserved)
    for runtime in state.connectors.values():
        if state.is_planned(runtime, settings):
            total = add(total, state.bound_load(runtime, moment, settings))
    return ControllerView(
        at=last_step,
        mode=state.meter.mode,
        mode_reason=state.meter.reason,
        site_limit_a=state.site.limits.phase_limit_a,
        site_current_a=state.meter.current_a,
        base_load_a=base,
        reserved_a=reserved,
        allowed_total_a=total,
        meter_age_s=None if at is None else state.meter.age_s(at),
        solve_status=None if allocation is None else allocation.status.value,
        solve_ms=None if allocation is None else allocation.solve_ms,
        binding=() if allocation is None else allocation.binding,
        connectors=connectors,
        fallback_explanation=fallbacks.explanation,
        configured_site_limit_a=state.configured.limits.phase_limit_a,
        site_power_limit_w=state.site.limits.power_limit_w,
        configured_power_limit_w=state.configured.limits.power_limit_w,
        site_limit_reason=state.limit_reason,
        held_raises=tuple(c.key for c in state.connectors.values() if c.held is not None),
        untrusted_circuit_meters=tuple(
            reason
            for meter in state.circuit_meters.values()
            if (reason := meter.why_untrusted(moment, settings)) is not None
        ),
        demand_peak_w=state.demand.peak_w,
        price_per_kwh=None if at is None else state.site.tariff.price_at(at),
        demand_period_start=state.demand.period_start,
        prices_ahead=() if at is None else _prices_ahead(state, at),
        load_ahead=() if at is None else _load_ahead(state, at),
        load_slots=state.load_history.slots,
    )


def _prices_ahead(state: SiteState, at: datetime) -> tuple[PricePeriod, ...]:
    return state.site.tariff.periods(at, at + PRICES_AHEAD)[:MAX_PRICES_AHEAD]


def _load_ahead(state: SiteState, at: datetime) -> tuple[PowerPeriod, ...]:
    """`load_forecast` from `at` (the period in force then starting at it) to
    `PRICES_AHEAD` later."""
    until = at + PRICES_AHEAD
    periods = load_forecast(state, at, until)
    in_force = step_at(periods, at, lambda period: period.start)
    now = [] if in_force is None else [PowerPeriod(at, in_force.power_w)]
    ahead = [p for p in periods if at < p.start < until]
    return tuple(now + ahead)[:MAX_PRICES_AHEAD]


def connector_state(state: SiteState, runtime: ConnectorRuntime) -> str:
    charger = state.charger_of(runtime)
    if runtime.unconfigured:
        return "unconfigured"
    if runtime.uncontrolled_reason is not None or not charger.smart_charging:
        return "uncontrolled"
    if not charger.online or _never_connected(charger, runtime):
        return "offline"
    if runtime.session is None:
        return "plugged" if runtime.ev_present else "idle"
    return "charging" if runtime.limit_a() > 0 else "paused"


def _never_connected(charger: ChargerRuntime, runtime: ConnectorRuntime) -> bool:
    """The charger has not connected since the controller started (only a connection
    tells its protocol). The controller counts it as reachable, its fallbacks holding, but
    nothing shows it is there. A session it runs (one recalled after a restart) is one the
    controller steers, and shown as such."""
    return charger.protocol is None and runtime.session is None


def _shown_draw(runtime: ConnectorRuntime) -> PhaseTriple | None:
    """The last sample, unless the connector reported Available since: its EV has left,
    even if its StopTransaction was lost and the controller still counts that sample."""
    if runtime.status is ConnectorStatus.AVAILABLE:
        return None
    return runtime.drawn_a


def _connector_view(
    state: SiteState, runtime: ConnectorRuntime, now: datetime, settings: ControlSettings
) -> ConnectorView:
    config = runtime.config
    bound = state.bound(runtime, now, settings)
    return ConnectorView(
        key=config.key,
        charger_id=config.charger_id,
        connector_id=config.connector_id,
        status=None if runtime.status is None else runtime.status.value,
        state=connector_state(state, runtime),
        limit_a=runtime.limit_a(),
        allowed_a=state.bound_load(runtime, now, settings),
        drawn_a=_shown_draw(runtime),
        reason=runtime.outcome.reason,
        bottleneck=runtime.outcome.bottleneck,
        fallback_a=runtime.fallback_a,
        transaction_id=None if runtime.session is None else runtime.session.transaction_id,
        taper_bound_a=runtime.taper.bound_a,
        non_compliant=runtime.compliance.flagged,
        need_wh=None if runtime.session is None else remaining_need_wh(runtime.session),
        departure=None if runtime.session is None else runtime.session.departure,
        bound_a=bound.limit_a,
        bound_source=bound.source,
        bound_proven=bound.proven,
        charging_mode=mode_of(state, runtime).value,
        caught_before=runtime.compliance.times_flagged > 0,
    )
