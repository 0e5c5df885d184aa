"""What the controller knows about the site right now: chargers, connectors, sessions,
the last readings, and what it last told each connector.

Plain mutable records; the rules that change them live in their own modules
(`closed_loop`, `rate_limit`, `meter_watch`) and the controller applies events to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from ems.bounds import (
    NON_COMPLIANT,
    NON_COMPLIANT_BEFORE,
    NOT_SMART,
    Bound,
    Proof,
    measured_bound,
    profile_bound,
)
from ems.circuit_meters import CircuitMeter
from ems.commands import ProfilePurpose, SetLimit
from ems.demand import DemandPeak
from ems.events import ConnectorStatus
from ems.load_history import LoadHistory
from ems.meter_watch import MeterWatch
from ems.phases import ZERO, spread
from ems.site import (
    ChargerConfig,
    ChargingMode,
    ConnectorConfig,
    ControlSettings,
    SiteConfig,
    connector_key,
)
from ems.solar_gate import SolarGate
from optimizer.problem import Phase, PhaseTriple

EV_PRESENT_STATUSES = frozenset(
    {
        ConnectorStatus.PREPARING,
        ConnectorStatus.CHARGING,
        ConnectorStatus.SUSPENDED_EV,
        ConnectorStatus.SUSPENDED_EVSE,
        ConnectorStatus.OCCUPIED,
    }
)
"""Statuses in which an EV is plugged in and may draw current."""

SAMPLE_EDGE = timedelta(milliseconds=1)
"""A sample describes the draw up to its time stamp: one stamped the instant a lower
limit took effect was drawn under the limit before it."""


@dataclass
class Session:
    """A running transaction and what we know of the EV behind it."""

    transaction_id: str
    started_at: datetime
    energy_start_wh: float | None = None
    need_wh: float | None = None
    need_from_wh: float | None = None
    """The register the stated need is counted down from (see `ems.energy_need`)."""
    register_wh: float | None = None
    """The connector's energy register as last sampled during this session."""
    departure: datetime | None = None
    ev_max_a: float | None = None
    ev_min_a: float | None = None
    ev_phases: tuple[Phase, ...] | None = None
    """Site phases the EV was seen drawing on; None until observed."""
    tapering: bool = False
    """Seen drawing clearly less than allowed (a taper bound was set, `ems.closed_loop`),
    kept when a probe lifts the bound."""
    mode: ChargingMode | None = None
    """The operator's charging mode for this session; None: its charger's (`ems.mode_choice`)."""
    id_token: str | None = None
    """The token the session was started with, for its default mode (`ems.mode_choice`)."""


@dataclass
class Sent:
    """The last session profile sent to a connector."""

    limit_a: float
    at: datetime
    transaction_id: str
    command: SetLimit


class Draw(NamedTuple):
    """A connector's measured current, in site phases, and when it was sampled. A named
    tuple rather than a frozen dataclass: one is made for every sample."""

    current_a: PhaseTriple
    at: datetime


@dataclass(frozen=True)
class HeldRaise:
    """A raise the control step decided and holds until the room it needs is proven free
    (the lowerings that make it are accepted and the EVs had time to follow)."""

    limits_a: tuple[float, ...]
    """The limit now, then one per `step_s`, as the step planned them."""
    step_s: float | None
    reason: str
    transaction_id: str
    since: datetime


@dataclass
class Taper:
    """Closed-loop bound of a session that draws less than it is allowed."""

    under_since: datetime | None = None
    bound_a: float | None = None
    bound_since: datetime | None = None


@dataclass
class Compliance:
    """Whether the charger holds the limits it is sent."""

    over_since: datetime | None = None
    flagged: bool = False
    times_flagged: int = 0


@dataclass
class Outcome:
    """The last control step's decision for a connector, for the view."""

    target_a: float = 0.0
    reason: str = "no session"
    bottleneck: str | None = None


@dataclass(eq=False)
class ConnectorRuntime:
    """A connector's live record; compared by identity, as a record of one thing."""

    config: ConnectorConfig
    fallback_a: float
    fallback_at: datetime | None = None
    """When `fallback_a` last changed (None: the one it started with)."""
    status: ConnectorStatus | None = None
    session: Session | None = None
    drawn: Draw | None = None
    """The connector's latest sample."""
    drawn_before: Draw | None = None
    """The sample before `drawn`: the one a site reading taken between the two contains."""
    energy_wh: float | None = None
    sent: Sent | None = None
    paused_at: datetime | None = None
    rejected: str | None = None
    """Why the charger is treated as uncontrolled after refusing profiles; None if it is not."""
    rejected_purpose: ProfilePurpose | None = None
    """The purpose of the profiles it refused: only accepting one of those again ends it."""
    proof: Proof = field(default_factory=Proof)
    """What the charger confirmed of the profiles sent to it (see `ems.bounds`)."""
    held: HeldRaise | None = None
    present_since: datetime | None = None
    """When the EV now plugged in was first reported; None with no EV."""
    unconfigured: bool = False
    """The whole of a charger admitted without configuration (connector 0): counted as
    drawing, at its bound, at all times."""
    taper: Taper = field(default_factory=Taper)
    compliance: Compliance = field(default_factory=Compliance)
    outcome: Outcome = field(default_factory=Outcome)
    key: str = field(init=False)

    def __post_init__(self) -> None:
        self.key = self.config.key

    @property
    def ev_present(self) -> bool:
        return self.unconfigured or self.session is not None or self.status in EV_PRESENT_STATUSES

    @property
    def drawn_a(self) -> PhaseTriple | None:
        """The connector's last measured current, in site phases."""
        return None if self.drawn is None else self.drawn.current_a

    def record_draw(self, draw: Draw) -> None:
        """Keep the two newest samples (a late one older than both is of no use)."""
        latest = self.drawn
        if latest is None or draw.at >= latest.at:
            self.drawn, self.drawn_before = draw, latest
        elif self.drawn_before is None or draw.at > self.drawn_before.at:
            self.drawn_before = draw

    def draw_as_of(self, moment: datetime) -> Draw | None:
        """The sample that was current at `moment`: the latest taken at or before it."""
        for draw in (self.drawn, self.drawn_before):
            if draw is not None and draw.at <= moment:
                return draw
        return None

    @property
    def active_phases(self) -> tuple[Phase, ...]:
        """The site phases the EV draws on (all wired phases until observed)."""
        if self.session is not None and self.session.ev_phases is not None:
            return self.session.ev_phases
        return self.config.phases

    @property
    def uncontrolled_reason(self) -> str | None:
        if self.rejected is not None:
            return self.rejected
        if self.compliance.flagged:
            return "non-compliant: draws more than allowed"
        return None

    def sent_for_session(self) -> Sent | None:
        """The session profile in force, if one was sent for the running transaction."""
        if self.session is None or self.sent is None:
            return None
        return self.sent if self.sent.transaction_id == self.session.transaction_id else None

    def limit_a(self) -> float:
        """The per-phase limit the controller set: the session's, else the fallback."""
        sent = self.sent_for_session()
        return sent.limit_a if sent is not None else self.fallback_a

    def transaction_id(self) -> str | None:
        return None if self.session is None else self.session.transaction_id

    def in_pause_dwell(self, now: datetime, dwell_s: float) -> bool:
        return self.paused_at is not None and (now - self.paused_at).total_seconds() < dwell_s

    def forget_draw(self) -> None:
        """Drop the samples: they described an EV that has since come or gone."""
        self.drawn = None
        self.drawn_before = None

    def end_session(self) -> None:
        """The EV left: its session profile, refusals and closed-loop bounds go with it."""
        self.forget_draw()
        self.session = None
        self.sent = None
        self.paused_at = None
        self.rejected = None
        self.rejected_purpose = None
        self.held = None
        self.proof.tx.forget()
        self.taper = Taper()
        self.compliance = Compliance(times_flagged=self.compliance.times_flagged)
        self.outcome = Outcome()


@dataclass(eq=False)
class ChargerRuntime:
    config: ChargerConfig
    online: bool = True
    """Assumed reachable until it disconnects; the site meter sees it either way."""
    protocol: str | None = None
    max_periods: int | None = None
    max_stack_level: int | None = None
    smart_charging: bool = True


@dataclass(eq=False)
class SiteState:
    site: SiteConfig
    """The site with the limit in force; every rule checks against these limits."""
    chargers: dict[str, ChargerRuntime]
    connectors: dict[str, ConnectorRuntime]
    meter: MeterWatch
    limit_reason: str | None = None
    """Why the limit in force differs from the configured one; None when it does not."""
    circuit_meters: dict[str, CircuitMeter] = field(default_factory=dict)
    """The circuit meters by circuit id (`ems.circuit_meters`)."""
    reported: dict[str, str] = field(default_factory=dict)
    """Faults logged and not yet cleared, by kind: a fault of every step is logged once."""
    demand: DemandPeak = field(default_factory=DemandPeak)
    """The billing period's peak import so far, from the site meter (`ems.demand`)."""
    solar_gates: dict[str, SolarGate] = field(default_factory=dict)
    """The surplus hysteresis of each `solar` session, by connector key (`ems.solar_gate`)."""
    load_history: LoadHistory = field(default_factory=LoadHistory)
    """What the site imported besides our chargers per quarter hour of the last days: the
    forecast of its own load when the site gives none (`ems.load_history`)."""
    configured: SiteConfig = field(init=False)
    """The site as configured: its limits are the main fuse."""

    def __post_init__(self) -> None:
        self.configured = self.site

    @classmethod
    def initial(
        cls, site: SiteConfig, settings: ControlSettings, fallbacks: dict[str, float]
    ) -> SiteState:
        chargers = {ch.id: ChargerRuntime(ch) for ch in site.chargers}
        connectors = {c.key: ConnectorRuntime(c, fallbacks[c.key]) for c in site.connectors()}
        meter = MeterWatch(
            stale_s=settings.meter_stale_s,
            recover_readings=settings.meter_recover_readings,
            max_current_a=settings.meter_max_factor * site.limits.phase_limit_a,
            history_s=settings.meter_follow_s + settings.sample_stale_s,
        )
        demand = DemandPeak(window_s=site.tariff.demand_window_s)
        return cls(site, chargers, connectors, meter, demand=demand)

    def connector(self, charger_id: str, connector_id: int) -> ConnectorRuntime | None:
        return self.connectors.get(connector_key(charger_id, connector_id))

    def charger_of(self, connector: ConnectorRuntime) -> ChargerRuntime:
        return self.chargers[connector.config.charger_id]

    def bound(
        self,
        connector: ConnectorRuntime,
        now: datetime,
        settings: ControlSettings,
        *,
        with_draw: bool = True,
    ) -> Bound:
        """What the connector may draw per phase as far as the controller can prove (see
        `ems.bounds`): its profiles as the charger answered, raised to a recent measured
        draw above them (unless `with_draw` is False) — one taken since they settled: an
        older sample shows what the EV drew under the limits before; its hardware maximum
        where its profiles cannot be counted on."""
        # read for every connector several times a step: the lookups are spelled out
        unheld = self.unheld_bound(connector, settings)
        if unheld is not None:
            return unheld
        proof, session = connector.proof, connector.session
        tx = None if session is None else session.transaction_id
        bound = profile_bound(proof, connector.config.max_current_a, tx, now)
        draw = connector.drawn
        # a draw within the bound leaves it as it is, fresh or not: asked first, as most
        # are (an EV draws at most its limit), so their age and the profiles' settling
        # need not be worked out
        if not with_draw or draw is None or max(draw.current_a) <= bound.limit_a:
            return bound
        fresh = (now - draw.at).total_seconds() <= settings.sample_stale_s
        settled = proof.settled_at(tx)
        if not fresh or (settled is not None and draw.at - SAMPLE_EDGE < settled):
            return bound
        return measured_bound(bound, draw.current_a)

    def unheld_bound(self, connector: ConnectorRuntime, settings: ControlSettings) -> Bound | None:
        """The connector's hardware maximum where its profiles cannot be counted on to hold
        it (no smart charging, non-compliant now or on probation after an earlier session);
        None where they can, and `bound` reads them. Apart so a caller that needs only this
        part of the bound (`Controller._fixed_loads`) can skip reading the profiles."""
        config = connector.config
        max_a = config.max_current_a
        if not self.chargers[config.charger_id].smart_charging:
            return Bound(max_a, NOT_SMART)
        compliance = connector.compliance
        if compliance.flagged:
            return Bound(max_a, NON_COMPLIANT)
        if compliance.times_flagged > 0 and self.on_probation(connector, settings):
            return Bound(max_a, NON_COMPLIANT_BEFORE)
        return None

    def bound_when_drawn(
        self, connector: ConnectorRuntime, sampled_at: datetime, *, pending: bool = True
    ) -> Bound:
        """What the connector's profiles allowed while a sample stamped `sampled_at` was
        drawn: a draw above it is one the charger did not hold to. Not `pending`: only
        what the charger had confirmed (a profile sent since may be counted as pending
        then, though it went out after)."""
        max_a = connector.config.max_current_a
        proof, tx = connector.proof, connector.transaction_id()
        return profile_bound(proof, max_a, tx, sampled_at - SAMPLE_EDGE, pending=pending)

    def bound_load(
        self, connector: ConnectorRuntime, now: datetime, settings: ControlSettings
    ) -> PhaseTriple:
        """`bound` on the site phases the EV uses; zero with no EV plugged in."""
        if not connector.ev_present:
            return ZERO
        return spread(connector.active_phases, self.bound(connector, now, settings).limit_a)

    def on_probation(self, connector: ConnectorRuntime, settings: ControlSettings) -> bool:
        """A session on a charger caught drawing more than allowed in an earlier one, that
        no sample of its own has shown within its limit yet: its EV starts at whatever the
        charger lets it, so it counts at its maximum, held for it off the others' room
        (`ems.capacity.reserved_load`), and it is sent a trial limit rather than a share of
        the plan (`ems.control_step`), low enough that following it shows."""
        return (
            connector.compliance.times_flagged > 0
            and not connector.compliance.flagged
            and not _seen_obeying(connector, settings)
        )

    def is_planned(self, connector: ConnectorRuntime, settings: ControlSettings) -> bool:
        """A session the allocation plans: steered, and not on probation."""
        return self.is_controlled(connector) and not self.on_probation(connector, settings)

    def is_controlled(self, connector: ConnectorRuntime) -> bool:
        """A session we steer: running, on a reachable charger that obeys our profiles."""
        # asked of every connector several times a step: one without a session is out
        # before its charger is looked up
        if connector.session is None:
            return False
        charger = self.charger_of(connector)
        return charger.online and charger.smart_charging and connector.uncontrolled_reason is None


def _seen_obeying(connector: ConnectorRuntime, settings: ControlSettings) -> bool:
    """Whether a sample of the running session shows the EV charging within its limit."""
    draw = connector.drawn
    if connector.session is None or draw is None:
        return False
    drawn_a = max(draw.current_a)
    return 0 < drawn_a <= connector.limit_a() + settings.noncompliance_tolerance_a
