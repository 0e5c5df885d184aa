"""The controller core: events and the time in, commands out. No I/O, no clock.

`Controller.handle(event, now)` applies an event to the site state and returns what must be
sent. Most events only update the state; the control step (allocation and session
profiles) runs on a `Tick` once per `period_s`, or on the next tick after an event that
changes the picture (a session starts or ends, a charger goes, the meter turns untrusted,
a charger is found non-compliant or refuses profiles, the site limit rises). Commands that
answer an event directly — fallbacks for a charger that connects, the retry of a refused
profile, and the whole control step when the site limit is lowered — go out with the
event. The live runtime, the replay and the dry-run all drive this one object.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from ems import planner
from ems.capacity import Capacity
from ems.closed_loop import observe_draw
from ems.commands import Command, ProfilePurpose, SetLimit
from ems.control_step import run_step
from ems.energy_need import observe_register, state_need
from ems.events import (
    ChargerCapabilities,
    ChargerConnected,
    ChargerDisconnected,
    EnergyNeed,
    Event,
    MeterReading,
    MeterSample,
    ProfileAnswer,
    SessionEnded,
    SessionStarted,
    SiteLimitChanged,
    StatusChanged,
    Tick,
)
from ems.fallback import FallbackPlan, compute_fallbacks
from ems.phases import spread, to_site_phases
from ems.site import ControlSettings, SiteConfig, connector_key
from ems.site_limit import is_tighter, limit_in_force
from ems.solver_port import AllocationSolver
from ems.state import ConnectorRuntime, Session, SiteState
from ems.view import ControllerView, build_view
from optimizer.allocation import Allocation
from optimizer.problem import PhaseTriple

log = logging.getLogger(__name__)


class Controller:
    """Sans-I/O controller of one site."""

    def __init__(
        self, site: SiteConfig, settings: ControlSettings, solver: AllocationSolver
    ) -> None:
        self._site = site
        self._settings = settings
        self._solver = solver
        self._fallbacks = compute_fallbacks(site)
        self._state = SiteState.initial(site, settings, dict(self._fallbacks.fallback_a))
        self._last_step: datetime | None = None
        self._replan = True
        self._capacity: Capacity | None = None
        self._allocation: Allocation | None = None

    @property
    def fallbacks(self) -> FallbackPlan:
        """Every connector's fallback and the arithmetic showing they fit together under
        the site limit in force."""
        return self._fallbacks

    def startup(self, now: datetime) -> list[Command]:
        """The station caps and fallback profiles of every charger, for a fresh start."""
        commands: list[Command] = []
        for charger in self._site.chargers:
            commands.extend(self._charger_profiles(charger.id, now))
        return commands

    def handle(self, event: Event, now: datetime) -> list[Command]:
        match event:
            case Tick():
                return self._on_tick(now)
            case MeterReading():
                self._on_meter_reading(event)
            case MeterSample():
                self._on_sample(event)
            case SessionStarted():
                self._on_session_started(event)
            case SessionEnded():
                self._on_session_ended(event)
            case StatusChanged():
                self._on_status(event)
            case EnergyNeed():
                self._on_energy_need(event)
            case ChargerConnected():
                return self._on_connected(event, now)
            case ChargerDisconnected():
                self._on_disconnected(event)
            case ChargerCapabilities():
                self._on_capabilities(event)
            case ProfileAnswer():
                return self._on_profile_answer(event)
            case SiteLimitChanged():
                return self._on_site_limit(event, now)
        return []

    @property
    def allocation(self) -> Allocation | None:
        """The last control step's allocation, None before the first step."""
        return self._allocation

    def view(self, now: datetime | None = None) -> ControllerView:
        """What the controller knows and decided; meter age as of `now` if given."""
        return build_view(
            self._state,
            self._capacity,
            self._allocation,
            self._fallbacks,
            self._last_step,
            now,
        )

    def _on_tick(self, now: datetime) -> list[Command]:
        due = self._last_step is None or (
            (now - self._last_step).total_seconds() >= self._settings.period_s - 1e-6
        )
        if not (due or self._replan):
            return []
        return self._step(now)

    def _step(self, now: datetime) -> list[Command]:
        result = run_step(self._state, self._settings, self._solver, now)
        self._last_step = now
        self._replan = False
        self._capacity = result.capacity
        self._allocation = result.allocation
        return list(result.commands)

    def _on_site_limit(self, event: SiteLimitChanged, now: datetime) -> list[Command]:
        """Put a new site limit in force. The fallbacks are recomputed to fit it (and sent
        where they change); a lowering runs the control step at once, a raise waits for
        the next tick and the rate limits."""
        try:
            wanted = limit_in_force(self._site.limits, event)
        except ValueError as error:
            log.error("%s; the site limit in force is kept", error)
            return []
        before = self._state.site.limits
        self._state.limit_reason = wanted.reason
        if wanted.limits == before:
            return []
        self._state.site = replace(self._site, limits=wanted.limits)
        commands = self._refresh_fallbacks(now)
        if is_tighter(wanted.limits, before):
            return commands + self._step(now)
        self._replan = True
        return commands

    def _refresh_fallbacks(self, now: datetime) -> list[Command]:
        """Fallbacks that fit the site limit in force; the changed ones are sent."""
        self._fallbacks = compute_fallbacks(self._state.site)
        voltage = self._site.limits.voltage_v
        commands: list[Command] = []
        for runtime in self._state.connectors.values():
            fallback = self._fallbacks.fallback_a[runtime.key]
            if fallback == runtime.fallback_a:
                continue
            runtime.fallback_a = fallback
            runtime.fallback_at = now
            if self._state.charger_of(runtime).online:
                commands.append(planner.default_profile(runtime, now, self._settings, voltage))
        return commands

    def _on_meter_reading(self, reading: MeterReading) -> None:
        wanted = self._settings.site_meter_id
        if wanted is not None and reading.meter_id != wanted:
            return
        before = self._state.meter.mode
        self._state.meter.observe(reading)
        if self._state.meter.mode is not before:
            self._replan = True

    def _on_sample(self, sample: MeterSample) -> None:
        runtime = self._state.connector(sample.charger_id, sample.connector_id)
        if runtime is None:
            return
        if sample.energy_wh is not None:
            runtime.energy_wh = sample.energy_wh
        if runtime.session is not None:
            observe_register(runtime.session, sample)
        drawn = self._drawn_a(runtime, sample)
        if drawn is not None and observe_draw(runtime, drawn, sample.at, self._settings):
            self._replan = True

    def _drawn_a(self, runtime: ConnectorRuntime, sample: MeterSample) -> PhaseTriple | None:
        """Per-phase current in site phases; estimated from power when no currents came."""
        drawn = to_site_phases(runtime.config.phases, sample.current_a)
        if drawn is not None or sample.power_w is None:
            return drawn
        phases = runtime.active_phases
        per_phase = max(sample.power_w, 0.0) / (self._site.limits.voltage_v * len(phases))
        return spread(phases, per_phase)

    def _on_session_started(self, event: SessionStarted) -> None:
        runtime = self._state.connector(event.charger_id, event.connector_id)
        if runtime is None:
            return
        current = runtime.session
        if current is not None and current.transaction_id == event.transaction_id:
            return
        runtime.end_session()
        runtime.session = Session(event.transaction_id, event.at, event.meter_start_wh)
        self._replan = True

    def _on_session_ended(self, event: SessionEnded) -> None:
        runtime = self._state.connector(event.charger_id, event.connector_id)
        if runtime is None or runtime.session is None:
            return
        if runtime.session.transaction_id != event.transaction_id:
            return
        runtime.end_session()
        self._replan = True

    def _on_status(self, event: StatusChanged) -> None:
        runtime = self._state.connector(event.charger_id, event.connector_id)
        if runtime is None:
            return
        present = runtime.ev_present
        runtime.status = event.status
        if runtime.ev_present != present:
            runtime.forget_draw()
            self._replan = True

    def _on_energy_need(self, event: EnergyNeed) -> None:
        runtime = self._state.connector(event.charger_id, event.connector_id)
        if runtime is None or runtime.session is None:
            return
        session = runtime.session
        if event.energy_wh is not None:
            state_need(session, event.energy_wh)
        session.departure = event.departure or session.departure
        session.ev_max_a = event.max_current_a or session.ev_max_a
        session.ev_min_a = event.min_current_a or session.ev_min_a
        self._replan = True

    def _on_connected(self, event: ChargerConnected, now: datetime) -> list[Command]:
        charger = self._state.chargers.get(event.charger_id)
        if charger is None:
            return []
        charger.online = True
        charger.protocol = event.protocol
        for connector in charger.config.connectors:
            runtime = self._state.connectors[connector.key]
            runtime.rejected = None
            runtime.sent = None
        self._replan = True
        return self._charger_profiles(event.charger_id, now)

    def _charger_profiles(self, charger_id: str, now: datetime) -> list[Command]:
        charger = self._state.chargers[charger_id]
        voltage = self._site.limits.voltage_v
        commands: list[Command] = [
            planner.station_max_profile(self._site, charger.config, now, self._settings)
        ]
        for connector in charger.config.connectors:
            runtime = self._state.connectors[connector.key]
            commands.append(planner.default_profile(runtime, now, self._settings, voltage))
        return commands

    def _on_disconnected(self, event: ChargerDisconnected) -> None:
        charger = self._state.chargers.get(event.charger_id)
        if charger is not None and charger.online:
            charger.online = False
            self._replan = True

    def _on_capabilities(self, event: ChargerCapabilities) -> None:
        charger = self._state.chargers.get(event.charger_id)
        if charger is None:
            return
        charger.max_periods = event.max_periods
        charger.max_stack_level = event.max_stack_level
        if charger.smart_charging != event.smart_charging:
            charger.smart_charging = event.smart_charging
            self._replan = True

    def _on_profile_answer(self, answer: ProfileAnswer) -> list[Command]:
        """Retry a refused profile once with another rendering; then stop counting on it."""
        command = answer.command
        if answer.accepted:
            return []
        if answer.status == "Offline":
            self._on_disconnected(ChargerDisconnected(command.charger_id, answer.at))
            return []
        runtime = self._state.connectors.get(
            connector_key(command.charger_id, command.connector_id)
        )
        if command.purpose is ProfilePurpose.TX and not _is_current(runtime, command):
            return []
        refusal = f"{command.purpose.value} profile refused ({answer.status})"
        if command.attempt == 0:
            retry = replace(
                command,
                attempt=1,
                reason=f"{command.reason}; retried in another rendering after: {refusal}",
            )
            if runtime is not None and command.purpose is ProfilePurpose.TX and runtime.sent:
                runtime.sent = replace(runtime.sent, command=retry)
            return [retry]
        if runtime is not None and command.purpose is not ProfilePurpose.STATION_MAX:
            runtime.rejected = f"{refusal} twice"
            self._replan = True
        return []


def _is_current(runtime: ConnectorRuntime | None, command: SetLimit) -> bool:
    """Whether a TX command is still the one in force for the running session."""
    if runtime is None:
        return False
    sent = runtime.sent_for_session()
    return sent is not None and sent.command == command
