"""Hand-written fakes of the status server's ports, and a small site to show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from adapters.http import (
    AllocationSnapshot,
    ChargerSnapshot,
    ConnectorSnapshot,
    ControllerSnapshot,
    Counters,
    MoneySnapshot,
    PricesSource,
    RemoteStopResult,
    SessionSnapshot,
    SiteSnapshot,
    StatusSnapshot,
    UnprovenConnector,
)

NOW = datetime(2024, 5, 6, 14, 30, 0, tzinfo=UTC)


def sample_snapshot(at: datetime = NOW) -> StatusSnapshot:
    """A 32 A site with base load (8, 6, 9) A: cp1/1 charges on 3 phases at 16 A, cp2/1
    on site L2 alone at 10 A, cp2/2 is paused for capacity (L2 is the bottleneck), and
    cp3/1 sits idle on a charger that is offline, unproven (counted at its 32 A maximum)
    for 20 s, within the grace period.

    Site current = base + drawn = (8 + 15.8, 6 + 15.8 + 9.7, 9 + 15.8) = (23.8, 31.5, 24.8).

    The controller steps every 10 s; its last step, 3 s ago, was proper. It had 3 errors
    and 1 optimizer fallback, two hours ago.
    """
    return StatusSnapshot(
        at=at,
        site=SiteSnapshot(
            name="Depot Nord",
            limit_a=(32.0, 32.0, 32.0),
            configured_limit_a=32.0,
            override_limit_a=None,
            power_limit_w=22000.0,
            current_a=(23.8, 31.5, 24.8),
            base_load_a=(8.0, 6.0, 9.0),
            mode="normal",
            meter_age_s=1.5,
            meter_valid=True,
            meter_reason=None,
            meter_stale_after_s=10.0,
            net_import_w=18400.0,
        ),
        chargers=(
            ChargerSnapshot(
                id="cp1",
                protocol="ocpp1.6",
                connected=True,
                vendor="ABB",
                model="Terra AC",
                last_seen=at - timedelta(seconds=4),
            ),
            ChargerSnapshot(
                id="cp2",
                protocol="ocpp2.0.1",
                connected=True,
                vendor="Alfen",
                model="Eve Double",
                last_seen=at - timedelta(seconds=2),
            ),
            ChargerSnapshot(
                id="cp3",
                protocol="ocpp1.6",
                connected=False,
                vendor=None,
                model=None,
                last_seen=at - timedelta(hours=3),
            ),
        ),
        connectors=(
            ConnectorSnapshot(
                charger_id="cp1",
                connector_id=1,
                status="Charging",
                allowed_a=(16.0, 16.0, 16.0),
                drawn_a=(15.8, 15.8, 15.8),
                power_w=10900.0,
                state="charging",
                reason=None,
                session_id="1001",
                energy_wh=12345.0,
                bound_a=16.0,
                bound_source="its session profile",
                bound_proven=True,
            ),
            ConnectorSnapshot(
                charger_id="cp2",
                connector_id=1,
                status="Charging",
                allowed_a=(0.0, 10.0, 0.0),
                drawn_a=(0.0, 9.7, 0.0),
                power_w=2231.0,
                state="charging",
                reason="site-L2",
                session_id="tx-2a",
                energy_wh=3400.0,
                bound_a=10.0,
                bound_source="a session profile not yet applied",
                bound_proven=True,
                charging_mode="fast",
            ),
            ConnectorSnapshot(
                charger_id="cp2",
                connector_id=2,
                status="SuspendedEVSE",
                allowed_a=(0.0, 0.0, 0.0),
                drawn_a=(0.0, 0.0, 0.0),
                power_w=0.0,
                state="paused",
                reason="insufficient_capacity",
                session_id="tx-2b",
                energy_wh=800.0,
                bound_a=0.0,
                bound_source="its session profile",
                bound_proven=True,
            ),
            ConnectorSnapshot(
                charger_id="cp3",
                connector_id=1,
                status=None,
                allowed_a=(0.0, 0.0, 0.0),
                drawn_a=(None, None, None),
                power_w=None,
                state="idle",
                reason=None,
                session_id=None,
                energy_wh=None,
                bound_a=32.0,
                bound_source="its hardware maximum: nothing confirmed holds it below that yet",
                bound_proven=False,
            ),
        ),
        sessions=(
            SessionSnapshot(
                id="1001",
                charger_id="cp1",
                connector_id=1,
                started_at=at - timedelta(hours=1, minutes=10),
                energy_wh=12345.0,
                id_token="04A1B2C3",
            ),
            SessionSnapshot(
                id="tx-2a",
                charger_id="cp2",
                connector_id=1,
                started_at=at - timedelta(minutes=25),
                energy_wh=3400.0,
                id_token=None,
            ),
            SessionSnapshot(
                id="tx-2b",
                charger_id="cp2",
                connector_id=2,
                started_at=at - timedelta(minutes=5),
                energy_wh=800.0,
                id_token="FLEET-7",
            ),
        ),
        allocation=AllocationSnapshot(
            status="optimal",
            binding=("site-L2",),
            solve_ms=42.5,
            at=at - timedelta(seconds=3),
        ),
        counters=Counters(
            profiles_sent=57,
            profiles_rejected=2,
            meter_errors=1,
            solves=360,
            solve_seconds_total=14.4,
            step_errors=3,
            fallback_steps=1,
        ),
        controller=ControllerSnapshot(
            period_s=10.0,
            started_at=at - timedelta(hours=5),
            last_step_at=at - timedelta(seconds=3),
            last_proper_step_at=at - timedelta(seconds=3),
            last_step_fault=None,
            last_error="the controller on Tick raised KeyError: 'cp9/1'",
            last_error_at=at - timedelta(hours=2),
            last_fallback_status="fallback_infeasible",
            last_fallback_at=at - timedelta(hours=2),
            unproven=(UnprovenConnector("cp3/1", at - timedelta(seconds=20)),),
            held_raises=(),
        ),
        money=sample_money(at),
    )


def sample_money(at: datetime = NOW) -> MoneySnapshot:
    """Day-ahead prices fetched 5 minutes ago: 0.2150 now, 0.3120 from 15:00, 0.1875 from
    16:00; a demand charge of 12.5 per kW, with a peak of 21.3 kW so far in May; the
    building's load learned: 8.4 kW now, 17.2 kW from 15:00, 9.1 kW from 15:15."""
    return MoneySnapshot(
        price_per_kwh=0.215,
        prices_ahead=(
            (at, 0.215),
            (datetime(2024, 5, 6, 15, 0, tzinfo=UTC), 0.312),
            (datetime(2024, 5, 6, 16, 0, tzinfo=UTC), 0.1875),
        ),
        export_price_per_kwh=0.07,
        demand_charge_per_kw=12.5,
        demand_window_s=900.0,
        demand_period_start=datetime(2024, 5, 1, tzinfo=UTC),
        demand_peak_w=21300.0,
        planned_cap_w=21300.0,
        prices_source=PricesSource("http://prices.test/day-ahead", 300.0),
        load_ahead=(
            (at, 8400.0),
            (datetime(2024, 5, 6, 15, 0, tzinfo=UTC), 17200.0),
            (datetime(2024, 5, 6, 15, 15, tzinfo=UTC), 9100.0),
        ),
    )


@dataclass
class FakeSource:
    """Serves whatever snapshot the test put in `current`."""

    current: StatusSnapshot = field(default_factory=sample_snapshot)

    def snapshot(self) -> StatusSnapshot:
        return self.current


@dataclass
class FakeActions:
    """Records what the operator asked for; answers remote stops with `stop_result`."""

    overrides: list[float | None] = field(default_factory=list)
    stops: list[tuple[str, str]] = field(default_factory=list)
    """(charger id, transaction id) of every remote stop asked for."""
    stop_result: RemoteStopResult = field(
        default_factory=lambda: RemoteStopResult(accepted=True, status="Accepted")
    )
    refuse_override: str | None = None
    modes: list[tuple[str, int, str | None]] = field(default_factory=list)
    """(charger id, connector id, mode) of every mode chosen."""

    def override_limit(self, limit_a: float | None) -> None:
        if self.refuse_override is not None:
            raise ValueError(self.refuse_override)
        self.overrides.append(limit_a)

    trusted: list[tuple[str, int]] = field(default_factory=list)
    """(charger id, connector id) of every charger trusted again."""

    def choose_mode(self, charger_id: str, connector_id: int, mode: str | None) -> None:
        self.modes.append((charger_id, connector_id, mode))

    def trust_again(self, charger_id: str, connector_id: int) -> None:
        self.trusted.append((charger_id, connector_id))

    async def remote_stop(self, charger_id: str, transaction_id: str) -> RemoteStopResult:
        self.stops.append((charger_id, transaction_id))
        return self.stop_result
