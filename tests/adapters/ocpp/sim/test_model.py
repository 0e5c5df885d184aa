"""The simulator's pure parts: the EV model and the profile rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.ocpp.sim import InstalledProfile, Limit, ProfileStore, SimulatedEV, Transaction
from adapters.ocpp.sim.smart import SchedulePeriod, profile_from_wire
from ems.commands import ProfilePurpose

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def profile(purpose: ProfilePurpose, limit: float, **kw: object) -> InstalledProfile:
    defaults: dict[str, object] = {
        "id": 1,
        "connector_id": 1,
        "stack_level": 0,
        "kind": "Absolute",
        "unit": "A",
        "start": T0,
    }
    defaults.update(kw)
    periods = (SchedulePeriod(0, limit),)
    return InstalledProfile(purpose=purpose, periods=periods, **defaults)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("offered", "soc", "expected"),
    [
        (32.0, 50.0, 16.0),
        (10.0, 50.0, 10.0),
        (5.9, 50.0, 0.0),
        (32.0, 90.0, 8.0),
        (32.0, 97.0, 0.0),
    ],
)
def test_ev_draw(offered: float, soc: float, expected: float) -> None:
    ev = SimulatedEV(max_current_a=16.0, soc_pct=soc)
    assert ev.draw_a(offered) == pytest.approx(expected)


def test_ev_fills_its_battery() -> None:
    ev = SimulatedEV(capacity_wh=10_000.0, soc_pct=50.0)
    ev.charge(2_500.0)
    assert ev.soc_pct == 75.0
    ev.charge(10_000.0)
    assert ev.soc_pct == 100.0


def test_highest_stack_level_wins_and_validity_is_honoured() -> None:
    store = ProfileStore()
    store.install(profile(ProfilePurpose.TX_DEFAULT, 16.0, id=1, stack_level=0))
    store.install(
        profile(
            ProfilePurpose.TX_DEFAULT,
            10.0,
            id=2,
            stack_level=1,
            valid_to=T0 + timedelta(hours=1),
        )
    )
    assert store.connector_limit(1, T0, None) == Limit(10.0)
    assert store.connector_limit(1, T0 + timedelta(hours=1), None) == Limit(16.0)


def test_connector_default_overrides_charger_wide_default() -> None:
    store = ProfileStore()
    store.install(profile(ProfilePurpose.TX_DEFAULT, 16.0, id=1, connector_id=0))
    assert store.connector_limit(2, T0, None) == Limit(16.0)
    store.install(profile(ProfilePurpose.TX_DEFAULT, 20.0, id=2, connector_id=2))
    assert store.connector_limit(2, T0, None) == Limit(20.0)


def test_tx_profile_only_for_its_transaction_and_capped_by_station() -> None:
    store = ProfileStore()
    store.install(profile(ProfilePurpose.TX_DEFAULT, 16.0, id=1))
    store.install(profile(ProfilePurpose.TX, 25.0, id=2, transaction_id="7"))
    store.install(profile(ProfilePurpose.STATION_MAX, 20.0, id=3, connector_id=0))
    assert store.connector_limit(1, T0, Transaction("8", T0)) == Limit(16.0)
    assert store.connector_limit(1, T0, Transaction("7", T0)) == Limit(20.0)
    store.end_transaction(1)
    assert store.connector_limit(1, T0, Transaction("7", T0)) == Limit(16.0)


def test_watts_per_phase_over_number_phases() -> None:
    store = ProfileStore(voltage_v=230.0)
    p = InstalledProfile(
        1, 1, ProfilePurpose.TX_DEFAULT, 0, "Absolute", "W", (SchedulePeriod(0, 3680.0, 1),), T0
    )
    store.install(p)
    assert store.connector_limit(1, T0, None) == Limit(16.0, 1)


def test_daily_recurring_profile() -> None:
    wire = {
        "charging_profile_id": 4,
        "stack_level": 0,
        "charging_profile_purpose": "TxDefaultProfile",
        "charging_profile_kind": "Recurring",
        "recurrency_kind": "Daily",
        "charging_schedule": {
            "start_schedule": "2024-01-01T00:00:00Z",
            "charging_rate_unit": "A",
            "charging_schedule_period": [
                {"start_period": 0, "limit": 10.0},
                {"start_period": 8 * 3600, "limit": 32.0},
            ],
        },
    }
    store = ProfileStore()
    store.install(profile_from_wire(1, wire, T0))
    assert store.connector_limit(1, T0 + timedelta(days=3, hours=7), None) == Limit(10.0)
    assert store.connector_limit(1, T0 + timedelta(days=3, hours=9), None) == Limit(32.0)
    steps = store.composite(1, T0 + timedelta(days=3, hours=7), 7200, None, 32.0)
    assert steps == [(0, Limit(10.0)), (3600, Limit(32.0))]
