"""The running site as the status server shows it, and what an operator may do to it.

`RuntimeStatus` implements the status server's `StatusSource` and `OperatorActions`. It
assembles each snapshot from data already in memory — the controller's last view (built
after every batch of events, off the event loop), the central system's connections, the
meters' last readings, the facts observed on the way and the counters — so a request
never waits for the controller or the store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from adapters.files.app_config import AppConfig
from adapters.http.snapshot import (
    AllocationSnapshot,
    ChargerSnapshot,
    ConnectorSnapshot,
    ControllerSnapshot,
    MeasuredPhaseCurrents,
    MoneySnapshot,
    SessionSnapshot,
    SiteSnapshot,
    StatusSnapshot,
    UnprovenConnector,
)
from adapters.http.source import RemoteStopResult
from adapters.ocpp.results import CallStatus
from adapters.ocpp.server import CentralSystem
from adapters.runtime.counters import RuntimeCounters
from adapters.runtime.meter_intake import MeterIntake
from adapters.runtime.mode_memory import remember_mode
from adapters.runtime.observed import ChargerFacts, Observed
from adapters.runtime.price_feed import PriceFeed
from adapters.runtime.site_limit_feed import SiteLimitFeed
from adapters.runtime.startup import remember_override
from ems.events import Event, ModeChosen, NonComplianceForgiven
from ems.site import ChargingMode, connector_key
from ems.view import ConnectorView, ControllerView

_UNKNOWN: MeasuredPhaseCurrents = (None, None, None)


class RuntimeStatus:
    def __init__(
        self,
        config: AppConfig,
        central: CentralSystem,
        meters: MeterIntake,
        observed: Observed,
        counters: RuntimeCounters,
        view: Callable[[], ControllerView],
        clock: Callable[[], datetime],
        put: Callable[[Event], None],
        limits: SiteLimitFeed,
        prices: PriceFeed | None = None,
    ) -> None:
        self._config = config
        self._central = central
        self._meters = meters
        self._observed = observed
        self._counters = counters
        self._view = view
        self._clock = clock
        self._put = put
        self._limits = limits
        self._prices = prices

    # StatusSource

    def snapshot(self) -> StatusSnapshot:
        now = self._clock()
        view = self._view()
        return StatusSnapshot(
            at=now,
            site=self._site(view, now),
            chargers=tuple(self._charger(c.id) for c in self._config.site.chargers),
            connectors=tuple(self._connector(c) for c in view.connectors),
            sessions=self._sessions(),
            allocation=_allocation(view),
            counters=self._counters.snapshot(),
            controller=self._controller(view, now),
            money=self._money(view, now),
        )

    def _money(self, view: ControllerView, now: datetime) -> MoneySnapshot | None:
        tariff = self._config.site.tariff
        if tariff.is_empty and not tariff.export_price_per_kwh and self._prices is None:
            return None
        return MoneySnapshot(
            price_per_kwh=view.price_per_kwh,
            prices_ahead=tuple((p.start, p.price_per_kwh) for p in view.prices_ahead),
            export_price_per_kwh=tariff.export_price_per_kwh,
            demand_charge_per_kw=tariff.demand_price_per_kw,
            demand_window_s=tariff.demand_window_s,
            demand_period_start=view.demand_period_start,
            demand_peak_w=view.demand_peak_w,
            planned_cap_w=max(view.demand_peak_w, 0.0),
            prices_source=None if self._prices is None else self._prices.status(now),
            load_ahead=tuple((p.start, p.power_w) for p in view.load_ahead),
        )

    def _controller(self, view: ControllerView, now: datetime) -> ControllerSnapshot:
        counters = self._counters
        since = counters.unproven_since
        return ControllerSnapshot(
            period_s=self._config.control.period_s,
            started_at=counters.started_at,
            last_step_at=view.at,
            last_proper_step_at=counters.last_proper_step_at,
            last_step_fault=counters.last_step_fault,
            last_error=counters.last_error,
            last_error_at=counters.last_error_at,
            last_fallback_status=counters.last_fallback_status,
            last_fallback_at=counters.last_fallback_at,
            unproven=tuple(UnprovenConnector(key, since.get(key, now)) for key in view.unproven),
            held_raises=view.held_raises,
            untrusted_circuit_meters=view.untrusted_circuit_meters,
            drawing_too_much=tuple(c.key for c in view.connectors if c.non_compliant),
        )

    def _site(self, view: ControllerView, now: datetime) -> SiteSnapshot:
        site = self._config.site
        meter_id = self._config.control.site_meter_id
        reading = self._meters.reading(meter_id)
        health = self._meters.health(meter_id)
        current: MeasuredPhaseCurrents = _UNKNOWN
        if reading is not None and reading.valid:
            current = reading.current_a
        age_s = None
        if health is not None and health.age_s is not None:
            age_s = health.age_s + max((now - health.at).total_seconds(), 0.0)
        wanted = self._limits.wanted(now)
        limit = wanted.phase_limit_a
        return SiteSnapshot(
            name=site.name,
            limit_a=(limit, limit, limit),
            configured_limit_a=site.limits.phase_limit_a,
            override_limit_a=self._limits.override_a,
            power_limit_w=wanted.power_limit_w,
            current_a=current,
            base_load_a=view.base_load_a,
            mode=view.mode.value,
            meter_age_s=age_s,
            meter_valid=reading is not None and reading.valid,
            meter_reason=None if reading is None else reading.reason,
            meter_stale_after_s=self._config.control.meter_stale_s,
            meter_silent=reading is not None and reading.silent,
            net_import_w=reading.total_power_w if reading is not None and reading.valid else None,
            limit_reason=wanted.reason,
            pv_power_w=self._pv_power_w(),
        )

    def _pv_power_w(self) -> float | None:
        """The production of every PV meter together; None without one, or while one
        has no valid reading of its total power."""
        meters = self._config.pv_meters
        if not meters:
            return None
        total_w = 0.0
        for meter in meters:
            reading = self._meters.reading(meter.id)
            if reading is None or not reading.valid or reading.total_power_w is None:
                return None
            total_w += reading.total_power_w
        return total_w

    def _charger(self, charger_id: str) -> ChargerSnapshot:
        facts = self._observed.chargers.get(charger_id, ChargerFacts())
        return ChargerSnapshot(
            id=charger_id,
            protocol=self._central.protocol_of(charger_id) or facts.protocol,
            connected=self._central.is_connected(charger_id),
            vendor=facts.vendor,
            model=facts.model,
            last_seen=facts.last_seen,
        )

    def _connector(self, connector: ConnectorView) -> ConnectorSnapshot:
        facts = self._observed.connectors.get(connector.key)
        return ConnectorSnapshot(
            charger_id=connector.charger_id,
            connector_id=connector.connector_id,
            status=connector.status,
            allowed_a=connector.allowed_a,
            drawn_a=connector.drawn_a if connector.drawn_a is not None else _UNKNOWN,
            power_w=None if facts is None else facts.power_w,
            state=connector.state,
            reason=connector.reason,
            session_id=connector.transaction_id,
            energy_wh=self._observed.session_energy_wh(connector.key),
            bound_a=connector.bound_a,
            bound_source=connector.bound_source,
            bound_proven=connector.bound_proven,
            charging_mode=connector.charging_mode,
            caught_drawing_too_much=connector.caught_before,
        )

    def _sessions(self) -> tuple[SessionSnapshot, ...]:
        return tuple(
            SessionSnapshot(
                id=session.transaction_id,
                charger_id=session.charger_id,
                connector_id=session.connector_id,
                started_at=session.started_at,
                energy_wh=self._observed.session_energy_wh(key),
                id_token=session.id_token,
            )
            for key, session in sorted(self._observed.sessions.items())
        )

    # OperatorActions

    def override_limit(self, limit_a: float | None) -> None:
        """Cap the site at `limit_a` per phase (never above the configured limit), or
        restore the configured limit with None. The controller re-plans at once."""
        configured = self._config.site.limits.phase_limit_a
        if limit_a is not None and not 0 <= limit_a <= configured:
            raise ValueError(f"must be between 0 and the configured {configured:g} A")
        override = None if limit_a is None or limit_a >= configured else limit_a
        now = self._clock()
        remember_override(self._central.store, override, now)
        self._limits.set_override(override, now)

    def choose_mode(self, charger_id: str, connector_id: int, mode: str | None) -> None:
        """The operator's mode for the session on the connector, until it ends (and across
        restarts); the controller re-plans at its next tick."""
        chosen = None if mode is None else ChargingMode(mode)
        now = self._clock()
        key = connector_key(charger_id, connector_id)
        session = self._observed.sessions.get(key)
        if session is not None:
            running = {k: s.transaction_id for k, s in self._observed.sessions.items()}
            remember_mode(self._central.store, key, session.transaction_id, chosen, running, now)
        self._put(ModeChosen(charger_id, connector_id, now, chosen))

    def trust_again(self, charger_id: str, connector_id: int) -> None:
        """The controller forgets the charger was caught drawing too much (unless it does
        now); the store follows from its view (`ComplianceMemory`)."""
        self._put(NonComplianceForgiven(self._clock(), connector_key(charger_id, connector_id)))

    async def remote_stop(self, charger_id: str, transaction_id: str) -> RemoteStopResult:
        if not self._observed.is_running(charger_id, transaction_id):
            return RemoteStopResult(
                False, "Unknown", f"no open transaction {transaction_id} on {charger_id}"
            )
        result = await self._central.remote_stop(charger_id, transaction_id)
        detail = result.error_description
        if result.status == CallStatus.OFFLINE:
            detail = detail or f"{charger_id} is not connected"
        return RemoteStopResult(result.accepted, result.status, detail)


def _allocation(view: ControllerView) -> AllocationSnapshot | None:
    if view.at is None or view.solve_status is None:
        return None
    return AllocationSnapshot(
        status=view.solve_status,
        binding=view.binding,
        solve_ms=view.solve_ms or 0.0,
        at=view.at,
    )
