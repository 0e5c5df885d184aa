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
import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from ems import planner
from ems.bounds import IGNORES_DEFAULT, UNSURE_STATUSES, default_bound
from ems.capacity import Capacity, assess, counted_draw_under
from ems.circuit_meters import observe_circuit_reading
from ems.closed_loop import observe_draw
from ems.commands import Command, ProfilePurpose, SetLimit
from ems.control_step import proven_loads, release_held, run_step
from ems.demand import count_demand, recall_demand
from ems.energy_need import observe_register, state_need
from ems.events import (
    ChargerAdmitted,
    ChargerCapabilities,
    ChargerConnected,
    ChargerDisconnected,
    ConnectorStatus,
    DemandRecalled,
    EnergyNeed,
    Event,
    LoadHistoryRecalled,
    MeterReading,
    MeterSample,
    ModeChosen,
    NonComplianceForgiven,
    NonComplianceRecalled,
    PricesChanged,
    ProfileAnswer,
    ProfileRecalled,
    SessionEnded,
    SessionStarted,
    SiteLimitChanged,
    StatusChanged,
    Tick,
)
from ems.fallback import FallbackPlan, compute_fallbacks
from ems.meter_agreement import check_reading, observe_step, settling
from ems.meter_watch import Mode
from ems.mode_choice import choose_mode
from ems.net_import import observe_load
from ems.phases import spread, to_site_phases
from ems.price_update import with_prices
from ems.raise_gate import Loads, check_added
from ems.site import ChargerConfig, ConnectorConfig, ControlSettings, SiteConfig, connector_key
from ems.site_limit import is_tighter, limit_in_force
from ems.solver_port import AllocationSolver
from ems.state import ChargerRuntime, ConnectorRuntime, Sent, Session, SiteState
from ems.view import ControllerView, build_view
from optimizer.allocation import Allocation
from optimizer.problem import Phase, PhaseTriple

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
        self._fixed: tuple[tuple[ConnectorConfig, float], ...] = ()
        self._worst: PhaseTriple = site.worst_base_load_a
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
            case ChargerAdmitted():
                self._admit(event.charger_id, online=False)
            case ChargerConnected():
                return self._on_connected(event, now)
            case ChargerDisconnected():
                self._on_disconnected(event)
            case ChargerCapabilities():
                self._on_capabilities(event)
            case ProfileAnswer():
                return self.handle_answers([event], now)
            case ProfileRecalled():
                self._on_recalled(event)
            case SiteLimitChanged():
                return self._on_site_limit(event, now)
            case DemandRecalled():
                recall_demand(self._state, event)
            case LoadHistoryRecalled():
                self._state.load_history.recall(event.slots)
            case NonComplianceRecalled():
                self._recall_noncompliance(event)
            case NonComplianceForgiven():
                self._forgive_noncompliance(event)
            case PricesChanged():
                self._site = with_prices(self._state, self._site, event)
            case ModeChosen():
                self._replan = choose_mode(self._state, event) or self._replan
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
            self._settings,
        )

    def _on_tick(self, now: datetime) -> list[Command]:
        count_demand(self._state)
        due = self._last_step is None or (
            (now - self._last_step).total_seconds() >= self._settings.period_s - 1e-6
        )
        fixed, worst = self._fixed_loads(now), self._worst_base_load()
        if (fixed, worst) != (self._fixed, self._worst):
            self._fixed, self._worst = fixed, worst
            commands = self._refresh_fallbacks(now)
        else:
            commands = self._send_defaults(self._state.connectors.values(), now)
        if not (due or self._replan):
            return commands + release_held(self._state, self._settings, now, self._capacity)
        return commands + self._step(now)

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

    def _fixed_loads(self, now: datetime) -> tuple[tuple[ConnectorConfig, float], ...]:
        """The connectors whose default profile does not bound them, at what they may
        draw: found drawing more than allowed or without smart charging (their maximum),
        chargers nobody configured (their bound), and those that refused their latest
        default (what the default they kept allows, their maximum if none). The others'
        fallbacks share the rest, so that with no controller the fallbacks still fit."""
        fixed: list[tuple[ConnectorConfig, float]] = []
        for runtime in self._state.connectors.values():
            max_a = runtime.config.max_current_a
            if self._ignores_default(runtime, now):
                fixed.append((runtime.config, max_a))
            elif runtime.proof.default.refused:
                fixed.append((runtime.config, default_bound(runtime.proof, max_a, now).limit_a))
        return tuple(fixed)

    def _ignores_default(self, runtime: ConnectorRuntime, now: datetime) -> bool:
        """Whether the connector's default profile does not bound it (`_fixed_loads`): its
        bound is `IGNORES_DEFAULT`, or it is an unconfigured charger that may draw at all.
        Its profiles are read only where the answer can turn on them — an unconfigured
        charger, or one with a sample that may raise its bound to `MEASURED` — since this
        runs for every connector every tick and the profiles never give such a source."""
        state = self._state
        if state.unheld_bound(runtime, self._settings) is not None:
            return True
        if not runtime.unconfigured and runtime.drawn is None:
            return False
        bound = state.bound(runtime, now, self._settings)
        return (runtime.unconfigured and bound.limit_a > 0) or bound.source in IGNORES_DEFAULT

    def _worst_base_load(self) -> PhaseTriple:
        """The base load the fallbacks must fit beside: the worst configured, or what the
        meter measured where that is more (a charger drawing what it likes shows there
        first), rounded up to whole amperes so the fallbacks do not follow every reading."""
        worst = self._state.site.worst_base_load_a
        capacity = self._capacity
        if capacity is None or capacity.mode is not Mode.NORMAL:
            return worst
        measured = capacity.base_load_a
        return (
            max(worst[0], math.ceil(measured[0])),
            max(worst[1], math.ceil(measured[1])),
            max(worst[2], math.ceil(measured[2])),
        )

    def _refresh_fallbacks(self, now: datetime) -> list[Command]:
        """Fallbacks that fit the site limit in force, sent where they changed."""
        site = replace(self._state.site, worst_base_load_a=self._worst)
        self._fallbacks = compute_fallbacks(site, self._fixed)
        for runtime in self._state.connectors.values():
            fallback = self._fallbacks.fallback_a.get(runtime.key, runtime.fallback_a)
            if fallback != runtime.fallback_a:
                runtime.fallback_a = fallback
                runtime.fallback_at = now
        return self._send_defaults(self._state.connectors.values(), now)

    def _send_defaults(
        self, connectors: Iterable[ConnectorRuntime], now: datetime, *, again: bool = False
    ) -> list[Command]:
        """Default profiles at the fallbacks, for the online chargers whose last one sent
        differs (every one, `again`). One at or below what the connector may already draw
        goes out at once; a higher one only into room proven free, like any raise — the
        rest wait for a later tick."""
        capacity: Capacity | None = None
        loads: Loads = {}
        added: list[tuple[ConnectorConfig, PhaseTriple]] = []
        commands: list[Command] = []
        for runtime in connectors:
            # the profile first: most were sent at their fallback, and their charger need
            # not be looked up (this runs for every connector at every tick)
            last = runtime.proof.default.last_sent
            if not again and last is not None and last.limit_now_a == runtime.fallback_a:
                continue
            if not self._state.charger_of(runtime).online:
                continue
            max_a = runtime.config.max_current_a
            proven = default_bound(runtime.proof, max_a, now).limit_a
            if runtime.fallback_a > proven:
                if settling(self._state):
                    continue
                if capacity is None:
                    capacity = assess(self._state, self._settings, now)
                    loads = proven_loads(self._state, self._settings, now)
                extra = spread(runtime.config.phases, runtime.fallback_a - proven)
                if not check_added(
                    self._state.site, capacity, loads, [*added, (runtime.config, extra)]
                ).fits:
                    continue
                added.append((runtime.config, extra))
            commands.append(self._default_profile(runtime, now))
        return commands

    def _default_profile(self, runtime: ConnectorRuntime, now: datetime) -> SetLimit:
        """The connector's default profile, counted as sent from now on."""
        voltage = self._site.limits.voltage_v
        command = planner.default_profile(runtime, now, self._settings, voltage)
        runtime.proof.default.sent(command)
        return command

    def _on_meter_reading(self, reading: MeterReading) -> None:
        if reading.circuit is not None:
            self._on_circuit_reading(reading.circuit, reading)
            return
        wanted = self._settings.site_meter_id
        if wanted is not None and reading.meter_id != wanted:
            return
        before = self._state.meter.mode
        meter = self._state.meter
        meter.observe(reading)
        if reading.valid and meter.last_good is reading:
            reason = check_reading(self._state, reading, self._settings)
            if reason is not None:  # the runtime logs the change of mode, with the reason
                meter.distrust(reason)
            observe_load(self._state, reading)
        if meter.mode is not before:
            self._replan = True

    def _on_circuit_reading(self, circuit_id: str, reading: MeterReading) -> None:
        if circuit_id not in {c.id for c in self._site.circuits}:
            return
        ours = counted_draw_under(self._state, circuit_id, reading.at, self._settings)
        meters = self._state.circuit_meters
        if observe_circuit_reading(meters, circuit_id, reading, ours, self._settings):
            self._replan = True

    def _on_sample(self, sample: MeterSample) -> None:
        runtime = self._state.connector(sample.charger_id, sample.connector_id)
        if runtime is None:  # an unconfigured charger's samples count for the whole of it
            runtime = self._state.connector(sample.charger_id, 0)
        if runtime is None:
            return
        if sample.energy_wh is not None:
            runtime.energy_wh = sample.energy_wh
        if runtime.session is not None:
            observe_register(runtime.session, sample)
        drawn = self._drawn_a(runtime, sample)
        if drawn is None:
            return
        bound = self._state.bound_when_drawn(runtime, sample.at)
        previous = runtime.drawn
        if observe_draw(runtime, drawn, sample.at, self._settings, bound.limit_a):
            self._replan = True
        observe_step(self._state, runtime, previous, self._settings)

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
        runtime.session = Session(
            event.transaction_id, event.at, event.meter_start_wh, id_token=event.id_token
        )
        runtime.present_since = runtime.present_since or event.at
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
        if event.status is ConnectorStatus.AVAILABLE:
            # The EV left, and its transaction with it, though the charger may not have
            # told yet (a lost or late StopTransaction): the session ends here, and a later
            # profile for it binds nothing. The next EV starts under the default profile,
            # whatever the charger reports first.
            if runtime.session is not None:
                runtime.end_session()
                self._replan = True
            runtime.proof.tx.forget()
        if runtime.ev_present != present:
            runtime.forget_draw()
            runtime.present_since = event.at if runtime.ev_present else None
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

    def _admit(self, charger_id: str, online: bool) -> ChargerRuntime:
        """The charger's record; one the configuration does not name joins the model as
        one connector on every phase at `unknown_charger_max_a`, counted at that until
        it accepts a 0 A default profile, so the fallback arithmetic stays true."""
        known = self._state.chargers.get(charger_id)
        if known is not None:
            return known
        max_a = self._settings.unknown_charger_max_a
        config = ConnectorConfig(charger_id, 0, (Phase.L1, Phase.L2, Phase.L3), max_a, 0.0)
        charger = ChargerRuntime(ChargerConfig(charger_id, (config,)), online=online)
        self._state.chargers[charger_id] = charger
        self._state.connectors[config.key] = ConnectorRuntime(config, 0.0, unconfigured=True)
        self._replan = True
        log.warning(
            "%s: charger not in the configuration: counted at %g A per phase until it "
            "accepts a 0 A default profile; add it to [[chargers]] to let it charge",
            charger_id,
            max_a,
        )
        return charger

    def _on_connected(self, event: ChargerConnected, now: datetime) -> list[Command]:
        charger = self._admit(event.charger_id, online=True)
        charger.online = True
        charger.protocol = event.protocol
        for connector in charger.config.connectors:
            runtime = self._state.connectors[connector.key]
            runtime.rejected = None
            runtime.rejected_purpose = None
            runtime.sent = None
            runtime.held = None
        self._replan = True
        return self._charger_profiles(event.charger_id, now)

    def _charger_profiles(self, charger_id: str, now: datetime) -> list[Command]:
        """Every connector's default, then the station maximum, sent again (an
        unconfigured charger gets its 0 A default only). The defaults go first: they are
        what holds an EV that starts right after the charger booted (a charger takes one
        call at a time, and the station maximum only caps what the defaults allow)."""
        charger = self._state.chargers[charger_id]
        runtimes = [self._state.connectors[c.key] for c in charger.config.connectors]
        defaults = self._send_defaults(runtimes, now, again=True)
        if any(r.unconfigured for r in runtimes):
            return defaults
        cap = planner.station_max_profile(self._site, charger.config, now, self._settings)
        return [*defaults, cap]

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

    def handle_answers(self, answers: Sequence[ProfileAnswer], now: datetime) -> list[Command]:
        """Answers that came in together (`handle` passes one at a time), each counted by
        `_take_answer`; the held raises the acceptances free are looked for once, after all
        of them (a replay step answers every profile at once: once per answer cost most of
        its time)."""
        commands: list[Command] = []
        freed = False
        for answer in answers:
            more, frees = self._take_answer(answer)
            commands += more
            freed = freed or frees
        if freed:
            commands += release_held(self._state, self._settings, now, self._capacity)
        return commands

    def _take_answer(self, answer: ProfileAnswer) -> tuple[list[Command], bool]:
        """Count what the answer proves; retry a refused profile once in another
        rendering, then stop counting on the connector until its session ends or a later
        profile is accepted. The commands that follow, and whether the acceptance freed
        room a held raise may wait for."""
        command = answer.command
        runtime = self._state.connectors.get(
            connector_key(command.charger_id, command.connector_id)
        )
        freed = runtime is not None and self._prove(runtime, answer)
        if answer.accepted:
            # a charger refusing session profiles may still take defaults: only a profile
            # of the kind it refused shows it takes those again
            if runtime is not None and runtime.rejected_purpose is command.purpose:
                runtime.rejected = None
                runtime.rejected_purpose = None
                self._replan = True
            return [], freed
        if answer.status == "Offline":
            self._on_disconnected(ChargerDisconnected(command.charger_id, answer.at))
            return [], False
        if command.purpose is ProfilePurpose.TX and not _is_current(runtime, command):
            return [], False
        refusal = f"{command.purpose.value} profile refused ({answer.status})"
        if command.attempt == 0:
            retry = replace(
                command,
                attempt=1,
                reason=f"{command.reason}; retried in another rendering after: {refusal}",
            )
            if runtime is not None:
                slot = runtime.proof.slot(command.purpose)
                if slot is not None:
                    slot.sent(retry)
                if command.purpose is ProfilePurpose.TX and runtime.sent:
                    runtime.sent = replace(runtime.sent, command=retry)
            return [retry], False
        if runtime is not None and command.purpose is not ProfilePurpose.STATION_MAX:
            runtime.rejected = f"{refusal} twice"
            runtime.rejected_purpose = command.purpose
            self._replan = True
        return [], False

    def _prove(self, runtime: ConnectorRuntime, answer: ProfileAnswer) -> bool:
        """Record in the connector's proof what the charger did with a profile; True when
        that lowers its bound at once (room a held raise may be waiting for)."""
        slot = runtime.proof.slot(answer.command.purpose)
        if slot is None:
            return False
        before = self._state.bound(runtime, answer.at, self._settings, with_draw=False)
        if answer.accepted:
            slot.accept(answer.command, answer.at, before.limit_a, self._settings.reaction_s)
        elif answer.status not in UNSURE_STATUSES:
            slot.refuse(answer.command, answer.status)
        after = self._state.bound(runtime, answer.at, self._settings, with_draw=False)
        return after.limit_a < before.limit_a

    def _recall_noncompliance(self, event: NonComplianceRecalled) -> None:
        for key in event.keys:
            runtime = self._state.connectors.get(key)
            if runtime is not None:
                compliance = runtime.compliance
                compliance.times_flagged = max(compliance.times_flagged, 1)
        self._replan = True

    def _forgive_noncompliance(self, event: NonComplianceForgiven) -> None:
        runtime = self._state.connectors.get(event.key)
        if runtime is not None and not runtime.compliance.flagged:
            runtime.compliance.times_flagged = 0
            self._replan = True

    def _on_recalled(self, event: ProfileRecalled) -> None:
        """A profile sent before a restart: counted as the charger answered it then, so a
        charger that has not reconnected yet is counted at what it may still enforce."""
        command = event.command
        runtime = self._state.connector(command.charger_id, command.connector_id)
        if runtime is None:
            return
        slot = runtime.proof.slot(command.purpose)
        if slot is None:
            return
        slot.sent(command)
        if event.status is not None:
            accepted = event.status == "Accepted"
            self._prove(runtime, ProfileAnswer(command, event.at, accepted, event.status))
        session = runtime.session
        if (
            command.purpose is ProfilePurpose.TX
            and session is not None
            and command.transaction_id == session.transaction_id
            and event.status != "Rejected"
        ):
            limit = command.limit_now_a
            runtime.sent = Sent(limit, event.sent_at, session.transaction_id, command)
            paused = runtime.paused_at or event.sent_at
            runtime.paused_at = paused if limit <= 0 else None


def _is_current(runtime: ConnectorRuntime | None, command: SetLimit) -> bool:
    """Whether a TX command is still the one in force for the running session."""
    if runtime is None:
        return False
    sent = runtime.sent_for_session()
    return sent is not None and sent.command == command
