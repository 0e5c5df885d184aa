"""How much of the site is ours to allocate this step.

Base load is the load that is not our chargers: the site meter minus what our chargers
behind it draw, each charger's draw mapped through its phase rotation onto site phases.
When the meter cannot be trusted the worst configured base load is assumed instead.
Connectors we do not steer (offline charger, non-compliant, profiles refused), and
sessions on probation (`SiteState.on_probation`), are reserved at what they may draw as far
as the controller can prove (`SiteState.bound`), on the site and on every circuit above
them; so, with `reserve_for_arrivals`, is every connector without an EV at what an EV
arriving there draws before the controller hears of it (the charger starts it at its
default profile, or its maximum while none is confirmed).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ems.circuit_meters import circuit_base_loads
from ems.limit_check import circuit_loads, circuit_path
from ems.meter_watch import Mode
from ems.phases import ZERO, add, clip_min, non_negative, spread, subtract
from ems.site import ControlSettings
from ems.state import ConnectorRuntime, SiteState
from optimizer.problem import PhaseTriple


@dataclass(frozen=True)
class Capacity:
    mode: Mode
    reason: str
    base_load_a: PhaseTriple
    """Load that is not our chargers: measured, or the worst configured in conservative mode."""
    reserved_a: PhaseTriple
    """Our connectors that are not steered, at what they may draw, and the room held for
    arrivals on connectors without an EV."""
    circuit_reserved_a: dict[str, PhaseTriple]
    """The reserved load per circuit, including the circuits below it."""
    meter_age_s: float | None
    reading_at: datetime | None = None
    """When the meter reading the base load came from was taken; None for none."""

    @property
    def fixed_load_a(self) -> PhaseTriple:
        """Everything the allocation must fit around."""
        return add(self.base_load_a, self.reserved_a)


def assess(state: SiteState, settings: ControlSettings, now: datetime) -> Capacity:
    """What the site leaves for the steered sessions now. The base load measured off the
    last good reading is remembered (`MeterWatch.note_base`): a fall counts only once it
    held `base_fall_hold_s`."""
    state.meter.check(now)
    reading = state.meter.last_good
    meter_current = state.meter.current_a
    if state.meter.mode is Mode.CONSERVATIVE or reading is None or meter_current is None:
        base = state.site.worst_base_load_a
    else:
        measured = measured_base_load(meter_current, reading.at, state, settings)
        state.meter.note_base(reading.at, measured, settings.base_fall_hold_s)
        base = state.meter.held_base(now, settings.base_fall_hold_s)
    reserved = [
        (c.config, load)
        for c in state.connectors.values()
        if (load := reserved_load(state, c, settings, now))
    ]
    total = ZERO
    for _, load in reserved:
        total = add(total, load)
    circuit_reserved = circuit_loads(state.site, reserved)
    for circuit_id, load in circuit_base_loads(
        state.site, state.circuit_meters, settings, now
    ).items():
        circuit_reserved[circuit_id] = add(circuit_reserved[circuit_id], load)
    return Capacity(
        mode=state.meter.mode,
        reason=state.meter.reason,
        base_load_a=base,
        reserved_a=total,
        circuit_reserved_a=circuit_reserved,
        meter_age_s=state.meter.age_s(now),
        reading_at=None if reading is None else reading.at,
    )


def capacity_without(
    capacity: Capacity, state: SiteState, connector: ConnectorRuntime, load_a: PhaseTriple
) -> Capacity:
    """`capacity` with `load_a`, the connector's share of its reserved load, taken out of
    it on the site and on every circuit above the connector."""
    path = set(circuit_path(state.site, connector.config.circuit))
    circuits = {
        circuit_id: subtract(load, load_a) if circuit_id in path else load
        for circuit_id, load in capacity.circuit_reserved_a.items()
    }
    return replace(
        capacity, reserved_a=subtract(capacity.reserved_a, load_a), circuit_reserved_a=circuits
    )


def measured_base_load(
    meter_current_a: PhaseTriple, meter_at: datetime, state: SiteState, settings: ControlSettings
) -> PhaseTriple:
    """Site meter minus what our chargers behind it draw, never below zero."""
    return non_negative(subtract(meter_current_a, behind_meter_draw(state, meter_at, settings)))


def behind_meter_draw(
    state: SiteState, meter_at: datetime, settings: ControlSettings
) -> PhaseTriple:
    """What our chargers behind the site meter draw, to take off its reading taken at
    `meter_at` (`counted_draw` of each)."""
    ours = ZERO
    for connector in state.connectors.values():
        # without a sample a connector counts nothing: it is passed over before its
        # charger is looked up (this runs for every connector twice a step)
        if connector.drawn is not None and state.charger_of(connector).config.behind_meter:
            ours = add(ours, counted_draw(state, connector, meter_at, settings))
    return ours


def counted_draw_under(
    state: SiteState, circuit_id: str, meter_at: datetime, settings: ControlSettings
) -> PhaseTriple:
    """What our chargers on a circuit (or below it) draw, to take off its meter's reading."""
    ours = ZERO
    for connector in state.connectors.values():
        if circuit_id in circuit_path(state.site, connector.config.circuit):
            ours = add(ours, counted_draw(state, connector, meter_at, settings))
    return ours


def counted_draw(
    state: SiteState, connector: ConnectorRuntime, meter_at: datetime, settings: ControlSettings
) -> PhaseTriple:
    """The connector's draw to take off a meter reading taken at `meter_at`.

    The sample that counts is the one current when the meter was read — the latest taken
    at or before it, not `sample_stale_s` older — so chargers reporting just after a
    reading do not make their draw look like base load. It counts at most the limit the
    controller set, so a sample taken before a lowering cannot hide base load (a charger
    drawing above its limit has the excess counted twice: as base load and in its bound);
    and
    nothing while the limit in force was set at or after the reading (a step sends after
    reading the meter; a site limit change moves the fallbacks), since under the limit
    before it (a pause, say) the reading may hold less than the sample shows. Nor more
    than its profiles allowed when the meter was read, as far as the charger had
    confirmed them: a limit decided but held, or sent and not yet answered (perhaps sent
    after the reading), is not one to count the EV drawing up to then.
    """
    draw = connector.draw_as_of(meter_at)
    if draw is None or (meter_at - draw.at).total_seconds() > settings.sample_stale_s:
        return ZERO
    sent = connector.sent_for_session()
    set_at = connector.fallback_at if sent is None else sent.at
    if set_at is not None and set_at >= meter_at:
        return ZERO
    if not connector.ev_present:
        return ZERO
    confirmed = state.bound_when_drawn(connector, meter_at, pending=False)
    limit_a = connector.fallback_a if sent is None else sent.limit_a  # `limit_a()`
    allowed = min(limit_a, confirmed.limit_a)
    return clip_min(draw.current_a, spread(connector.active_phases, allowed))


def reserved_load(
    state: SiteState, connector: ConnectorRuntime, settings: ControlSettings, now: datetime
) -> PhaseTriple | None:
    """What a connector we do not steer may draw; None for one we steer, and for one
    without an EV unless room is held for an arrival there."""
    if not connector.ev_present:
        if not settings.reserve_for_arrivals:
            return None
        return arrival_load(state, connector, settings, now)
    if state.is_planned(connector, settings):
        return None
    return state.bound_load(connector, now, settings)


def arrival_a(
    state: SiteState, connector: ConnectorRuntime, settings: ControlSettings, now: datetime
) -> float:
    """What an EV arriving at an idle connector draws per phase before the controller
    reacts: what its default profile allows as far as the charger confirmed it (its
    maximum while none is confirmed, or where profiles are not obeyed); nothing when that
    is below its minimum current, where an EV cannot start.

    An offline charger counts too: an EV may arrive there unseen.
    """
    config = connector.config
    amps = state.bound(connector, now, settings).limit_a
    return amps if amps > 0 and amps >= config.min_current_a else 0.0


def arrival_load(
    state: SiteState, connector: ConnectorRuntime, settings: ControlSettings, now: datetime
) -> PhaseTriple | None:
    """`arrival_a` on every phase the connector is wired to; None when it is nothing."""
    amps = arrival_a(state, connector, settings, now)
    return spread(connector.config.phases, amps) if amps > 0 else None
