"""The tariff model: which price holds when, and the billing month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ems.tariff import Tariff, TimeOfUseRule, energy_cost
from optimizer.problem import PricePeriod

MONDAY = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday


def test_an_empty_tariff_prices_nothing() -> None:
    tariff = Tariff()
    assert tariff.is_empty
    assert tariff.price_at(MONDAY) is None
    assert tariff.periods(MONDAY, MONDAY + timedelta(hours=5)) == ()


def test_a_fixed_price_holds_always() -> None:
    tariff = Tariff(fixed_price_per_kwh=0.3)
    assert tariff.price_at(MONDAY + timedelta(days=40)) == 0.3
    assert tariff.periods(MONDAY, MONDAY + timedelta(hours=5)) == (PricePeriod(MONDAY, 0.3),)


def test_the_first_matching_rule_wins_else_the_fixed_price() -> None:
    peak = TimeOfUseRule(0.4, 17, 21, weekdays=frozenset(range(5)))
    night = TimeOfUseRule(0.1, 22, 6)
    tariff = Tariff(fixed_price_per_kwh=0.25, rules=(peak, night))
    assert tariff.price_at(MONDAY + timedelta(hours=18)) == 0.4
    assert tariff.price_at(MONDAY + timedelta(days=5, hours=18)) == 0.25  # Saturday
    assert tariff.price_at(MONDAY + timedelta(hours=23)) == 0.1
    assert tariff.price_at(MONDAY + timedelta(hours=3)) == 0.1
    assert tariff.price_at(MONDAY + timedelta(hours=12)) == 0.25


def test_a_night_rule_belongs_to_the_evening_it_starts() -> None:
    """Friday night's rule covers Saturday's early hours, not Monday's."""
    friday_nights = TimeOfUseRule(0.05, 22, 6, weekdays=frozenset({4}))
    tariff = Tariff(fixed_price_per_kwh=0.3, rules=(friday_nights,))
    assert tariff.price_at(MONDAY + timedelta(days=5, hours=2)) == 0.05  # Saturday 02:00
    assert tariff.price_at(MONDAY + timedelta(hours=2)) == 0.3  # Monday 02:00


def test_seasons_and_local_time() -> None:
    winter_evening = TimeOfUseRule(0.5, 17, 20, months=frozenset({12, 1, 2}))
    tariff = Tariff(0.2, (winter_evening,), timezone=ZoneInfo("Europe/Amsterdam"))
    january = datetime(2025, 1, 6, 16, 30, tzinfo=UTC)  # 17:30 in Amsterdam
    assert tariff.price_at(january) == 0.5
    assert tariff.price_at(january.replace(month=7)) == 0.2


def test_the_series_wins_where_it_covers_and_ends_one_step_after_its_last_point() -> None:
    series = (PricePeriod(MONDAY, 0.1), PricePeriod(MONDAY + timedelta(hours=1), -0.02))
    tariff = Tariff(fixed_price_per_kwh=0.3, series=series)
    assert tariff.price_at(MONDAY + timedelta(minutes=59)) == 0.1
    assert tariff.price_at(MONDAY + timedelta(minutes=61)) == -0.02
    assert tariff.price_at(MONDAY + timedelta(hours=2)) == 0.3
    assert tariff.price_at(MONDAY - timedelta(minutes=1)) == 0.3
    only_series = Tariff(series=series)
    assert only_series.price_at(MONDAY + timedelta(hours=5)) == -0.02


def test_periods_list_each_change_once() -> None:
    peak = TimeOfUseRule(0.4, 17, 21)
    tariff = Tariff(fixed_price_per_kwh=0.2, rules=(peak,))
    start = MONDAY + timedelta(hours=15, minutes=30)
    periods = tariff.periods(start, start + timedelta(hours=8))
    assert periods == (
        PricePeriod(start, 0.2),
        PricePeriod(MONDAY + timedelta(hours=17), 0.4),
        PricePeriod(MONDAY + timedelta(hours=21), 0.2),
    )


def test_the_billing_month_is_local() -> None:
    tariff = Tariff(timezone=ZoneInfo("Europe/Berlin"))
    first_of_march_local = datetime(2025, 2, 28, 23, 30, tzinfo=UTC)  # 00:30 on 1 March
    assert tariff.billing_period_start(first_of_march_local) == datetime(
        2025, 2, 28, 23, 0, tzinfo=UTC
    )


def test_export_earns_the_feed_in_price() -> None:
    assert energy_cost(2.0, 1.0, 0.3, 0.08) == 2.0 * 0.3 - 0.08
