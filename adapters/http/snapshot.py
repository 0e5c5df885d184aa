"""What the status server shows: one consistent picture of the running site, as plain data.

The runtime builds a `StatusSnapshot` from the controller's view, the central system and
the meter reader whenever the server asks (each request, each scrape); the server only
renders it. Nothing here refers to the controller's own types, so either side can change
without the other.

Units: currents in A per *site* phase (L1, L2, L3, in that order), power in W, energy in
Wh, durations in seconds, times as aware UTC datetimes. A measured value that is not
known (no reading yet, a failed read) is None, never 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ems.site import connector_key

PhaseCurrents = tuple[float, float, float]
"""Currents on site phases L1, L2, L3."""

MeasuredPhaseCurrents = tuple[float | None, float | None, float | None]
"""Measured currents on site phases L1, L2, L3; None where the value is not known."""


@dataclass(frozen=True)
class SiteSnapshot:
    """The grid connection: its limits, what the meter measures, and the controller's mode.

    `limit_a` is the per-phase limit the controller applies now (an operator override and
    a grid operator's cap included); `configured_limit_a` is the main fuse from the config,
    which an override may lower but never raise. `mode` is the controller's mode: `"normal"`, or
    `"conservative"` while the meter cannot be trusted, or another mode the controller
    defines. `meter_stale_after_s` is the meter age past which the controller stops
    trusting it.
    """

    name: str
    limit_a: PhaseCurrents
    configured_limit_a: float
    override_limit_a: float | None
    power_limit_w: float | None
    current_a: MeasuredPhaseCurrents
    base_load_a: MeasuredPhaseCurrents
    mode: str
    meter_age_s: float | None
    meter_valid: bool
    meter_reason: str | None
    meter_stale_after_s: float
    meter_silent: bool = False
    """The last poll got no answer (a timeout, no connection): silence, which the last
    good reading's age judges (`meter_stale_after_s`), not a wrong reading."""
    net_import_w: float | None = None
    """The site meter's total power: import positive, negative while the site exports
    (PV); None when not known."""
    limit_reason: str | None = None
    """Why the limit in force is below the configured one (an operator override, a grid
    operator's cap); None when it is not."""
    pv_power_w: float | None = None
    """What the site's PV produces now (its `role = "pv"` meters); None without one, or
    while one gives no valid reading."""

    @property
    def export_w(self) -> float | None:
        """What the site feeds into the grid now; None when not known."""
        return None if self.net_import_w is None else max(-self.net_import_w, 0.0)

    @property
    def self_consumption_w(self) -> float | None:
        """The part of the PV's production used on the site now (not exported)."""
        if self.pv_power_w is None or self.export_w is None:
            return None
        return max(self.pv_power_w - self.export_w, 0.0)


@dataclass(frozen=True)
class ChargerSnapshot:
    """A charger as the central system knows it. `protocol` is `"ocpp1.6"` or
    `"ocpp2.0.1"`, None if it has never connected."""

    id: str
    protocol: str | None
    connected: bool
    vendor: str | None
    model: str | None
    last_seen: datetime | None


@dataclass(frozen=True)
class ConnectorSnapshot:
    """One connector: what it may draw, what it draws, and why.

    `status` is the charger's OCPP status (`"Charging"`, `"SuspendedEV"`, ...);
    `state` is the controller's decision (`"charging"`, `"paused"`, `"idle"`) and
    `reason` says why (a pause reason, or the binding constraint that caps it).

    `bound_a` is what the connector may draw per phase (on each of its phases) as far as
    the controller can prove, and `bound_source` what that rests on (its session profile,
    its default profile, its hardware maximum...). `bound_proven` is False while none of
    its profiles is confirmed, so that it is counted at its hardware maximum.
    """

    charger_id: str
    connector_id: int
    status: str | None
    allowed_a: PhaseCurrents
    drawn_a: MeasuredPhaseCurrents
    power_w: float | None
    state: str
    reason: str | None
    session_id: str | None
    energy_wh: float | None
    bound_a: float
    bound_source: str
    bound_proven: bool
    charging_mode: str = "planned"
    """How its sessions charge: `fast`, `planned`, `solar` or `min+solar`."""
    caught_drawing_too_much: bool = False
    """Its charger was caught drawing more than allowed (now or before): its sessions
    start on probation, its maximum held for them until a sample shows them within their
    limit."""

    @property
    def key(self) -> str:
        return connector_key(self.charger_id, self.connector_id)


@dataclass(frozen=True)
class SessionSnapshot:
    """A running charging session (its `id` is the OCPP transaction id)."""

    id: str
    charger_id: str
    connector_id: int
    started_at: datetime
    energy_wh: float | None
    id_token: str | None

    @property
    def connector(self) -> str:
        return connector_key(self.charger_id, self.connector_id)


@dataclass(frozen=True)
class AllocationSnapshot:
    """The last solve: its status and the constraints at their limit (the bottleneck),
    named as the optimizer names them (`site-L1`, `circuit-c1-L2`, ...)."""

    status: str
    binding: tuple[str, ...]
    solve_ms: float
    at: datetime


@dataclass(frozen=True)
class Counters:
    """Running totals since the controller started, exported as Prometheus counters.

    `step_errors` counts exceptions in the controller (raised out of it, or raised by the
    allocation solver, which the controller answers by holding sessions at their
    fallbacks); `fallback_steps` the control steps that used the optimizer's safe
    fallback allocation instead of an optimal one.
    """

    profiles_sent: int
    profiles_rejected: int
    meter_errors: int
    solves: int
    solve_seconds_total: float
    step_errors: int
    fallback_steps: int


@dataclass(frozen=True)
class UnprovenConnector:
    """A connector counted at its hardware maximum (no profile of its confirmed), and
    since when without a break."""

    key: str
    since: datetime


@dataclass(frozen=True)
class ControllerSnapshot:
    """How the control loop itself fares: whether it produces proper steps, and what
    it cannot prove.

    A *proper* step ran without an exception and, if it solved an allocation, solved it
    to optimality (a step with no session to steer solves nothing and is proper).
    `last_step_fault` says why the last step was not proper, None when it was.
    `started_at` is when the controller started (the reference while no proper step ran
    yet); None when not known. `held_raises` are the connectors whose raise waits for
    room that lowerings elsewhere have yet to free. `untrusted_circuit_meters` says why
    each circuit meter not trusted now is not. `drawing_too_much` are the connectors whose
    chargers draw more than they are allowed now (flagged non-compliant: counted at their
    hardware maximum and steered no more until their session ends).
    """

    period_s: float
    started_at: datetime | None
    last_step_at: datetime | None
    last_proper_step_at: datetime | None
    last_step_fault: str | None
    last_error: str | None
    last_error_at: datetime | None
    last_fallback_status: str | None
    last_fallback_at: datetime | None
    unproven: tuple[UnprovenConnector, ...]
    held_raises: tuple[str, ...]
    untrusted_circuit_meters: tuple[str, ...] = ()
    drawing_too_much: tuple[str, ...] = ()

    def seconds_since_proper_step(self, now: datetime) -> float | None:
        """Since the last proper step, or since the start while there was none; None
        when neither is known."""
        since = self.last_proper_step_at or self.started_at
        return None if since is None else max((now - since).total_seconds(), 0.0)


@dataclass(frozen=True)
class PricesSource:
    """Where the dynamic price series comes from (a file, a URL) and how fresh it is:
    `age_s` since the series in force was last read or fetched (None: never), `error`
    why the last refresh failed (None: it did not)."""

    name: str
    age_s: float | None
    error: str | None = None


@dataclass(frozen=True)
class MoneySnapshot:
    """What power costs now and what the site's peak is, as the controller plans with.

    `price_per_kwh` is the import price now (None without one), `prices_ahead` the import
    price (from, per kWh) over the next hours, one entry per change. `demand_peak_w` is
    the billing period's highest `demand_window_s` average import so far: the planner
    draws up to `planned_cap_w` at no further demand charge, and pays
    `demand_charge_per_kw` for every kW above it."""

    price_per_kwh: float | None
    prices_ahead: tuple[tuple[datetime, float], ...]
    export_price_per_kwh: float
    demand_charge_per_kw: float
    demand_window_s: float
    demand_period_start: datetime | None
    demand_peak_w: float
    planned_cap_w: float
    prices_source: PricesSource | None = None
    load_ahead: tuple[tuple[datetime, float], ...] = ()
    """The building's load the planner expects besides our chargers (from, W) over the
    next hours, learned from the site meter; empty until it has learned a day."""


@dataclass(frozen=True)
class StatusSnapshot:
    """Everything the status page, the JSON API and the metrics show, taken at `at`."""

    at: datetime
    site: SiteSnapshot
    chargers: tuple[ChargerSnapshot, ...]
    connectors: tuple[ConnectorSnapshot, ...]
    sessions: tuple[SessionSnapshot, ...]
    allocation: AllocationSnapshot | None
    counters: Counters
    controller: ControllerSnapshot
    money: MoneySnapshot | None = None
    """None when the site has no tariff."""
