"""The dry-run's line per session on why it charges when it does, by mode, need and money."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from adapters.planning.money import MoneyPlan
from adapters.planning.why import session_why
from ems.view import ConnectorView

NOW = datetime(2025, 10, 7, 9, 0, tzinfo=UTC)
VOLTAGE_V = 230.0
SESSION = ConnectorView(
    key="cp1/1",
    charger_id="cp1",
    connector_id=1,
    status="Charging",
    state="charging",
    limit_a=10.0,
    allowed_a=(10.0, 10.0, 10.0),
    drawn_a=None,
    reason="fair share",
    bottleneck=None,
    fallback_a=6.0,
    transaction_id="tx-1",
    taper_bound_a=None,
    non_compliant=False,
    need_wh=20_000.0,
    departure=NOW + timedelta(hours=6),
)
MONEY = MoneyPlan(
    prices=(
        (NOW, 0.30),
        (NOW + timedelta(hours=1), 0.20),
        (NOW + timedelta(hours=2), 0.10),
        (NOW + timedelta(hours=3), 0.15),
        (NOW + timedelta(hours=4), 0.25),
        (NOW + timedelta(hours=7), 0.01),  # after the departure: no use to it
    ),
    demand_charge_per_kw=0.0,
    peak_cap_kw=0.0,
    export_price_per_kwh=0.0,
    base_import=((NOW, 3.0),),
)


def test_a_planned_session_names_the_cheapest_periods_before_it_leaves() -> None:
    assert session_why(SESSION, MONEY, NOW, VOLTAGE_V) == (
        "planned: needs 20.0 kWh by 15:00 UTC; its energy goes to the cheapest periods before"
        " then (10:00 UTC 0.2000, 11:00 UTC 0.1000, 12:00 UTC 0.1500); now 0.3000 per kWh:"
        " 6.9 kW now"
    )


def test_a_surplus_goes_first_and_a_flat_price_is_said_so() -> None:
    money = replace(MONEY, prices=((NOW, 0.3),), base_import=((NOW, -4.5),))
    waiting = replace(SESSION, allowed_a=(0.0, 0.0, 0.0))

    assert session_why(waiting, money, NOW, VOLTAGE_V) == (
        "planned: needs 20.0 kWh by 15:00 UTC; the site's surplus first (4.5 kW now), then the"
        " price is flat until then; now 0.3000 per kWh: nothing now"
    )


def test_fast_and_solar_sessions_say_their_mode() -> None:
    fast = session_why(replace(SESSION, charging_mode="fast"), MONEY, NOW, VOLTAGE_V)
    solar = session_why(replace(SESSION, charging_mode="solar"), MONEY, NOW, VOLTAGE_V)
    topped = replace(MONEY, base_import=((NOW, -2.0),))
    min_solar = session_why(replace(SESSION, charging_mode="min+solar"), topped, NOW, VOLTAGE_V)

    assert fast == (
        "fast: takes its share of what the limits leave now, whatever the price (6.9 kW now)"
    )
    assert solar == (
        "solar: charges only from the site's surplus (no surplus now: the site imports 3.0 kW"
        " besides the sessions; 6.9 kW now)"
    )
    assert min_solar == (
        "min+solar: charges at its minimum always, and on top from the site's surplus"
        " (2.0 kW surplus now; 6.9 kW now)"
    )


def test_a_session_without_a_departure_or_without_money_charges_now() -> None:
    no_departure = replace(SESSION, departure=None)

    assert session_why(no_departure, MONEY, NOW, VOLTAGE_V) == (
        "planned, but states no departure: charges now, fairly shared (6.9 kW now)"
    )
    assert session_why(SESSION, None, NOW, VOLTAGE_V) == (
        "planned: needs 20.0 kWh by 15:00 UTC; with no money to weigh it charges now, fairly"
        " shared (6.9 kW now)"
    )
    assert session_why(replace(SESSION, transaction_id=None), MONEY, NOW, VOLTAGE_V) is None
