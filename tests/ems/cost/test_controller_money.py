"""The controller counts the site meter into the billing period's peak, and shows it with
the price now."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ems.controller import Controller
from ems.events import (
    DemandRecalled,
    MeterReading,
    MeterSample,
    ModeChosen,
    PricesChanged,
    SessionEnded,
    SessionStarted,
    SiteLimitChanged,
    Tick,
)
from ems.site import ChargerConfig, ChargingMode, ConnectorConfig, ControlSettings, SiteConfig
from ems.tariff import Tariff
from optimizer.problem import Phase, PricePeriod, SiteLimits
from optimizer.solver import Solver

START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
THREE = (Phase.L1, Phase.L2, Phase.L3)


def _site() -> SiteConfig:
    return SiteConfig(
        name="x",
        limits=SiteLimits(63.0),
        chargers=(ChargerConfig("a", (ConnectorConfig("a", 1, THREE, 16.0),)),),
        tariff=Tariff(fixed_price_per_kwh=0.3, demand_price_per_kw=10.0),
    )


def _reading(at: datetime, amps: float) -> MeterReading:
    return MeterReading(
        "site",
        at,
        valid=True,
        current_a=(amps, amps, amps),
        voltage_v=(230.0, 230.0, 230.0),
        power_w=(amps * 230.0,) * 3,
        total_power_w=3 * amps * 230.0,
    )


def test_the_peak_so_far_and_the_price_now_are_in_the_view() -> None:
    controller = Controller(_site(), ControlSettings(), Solver())
    for second in range(0, 30 * 60 + 11, 10):
        at = START + timedelta(seconds=second)
        amps = 20.0 if second < 15 * 60 else 10.0
        controller.handle(_reading(at, amps), at)
        controller.handle(Tick(at), at)
    view = controller.view(START + timedelta(minutes=30))
    assert view.demand_peak_w == pytest.approx(3 * 20.0 * 230.0)
    assert view.price_per_kwh == 0.3


def test_the_peak_counts_what_our_chargers_drew_over_an_interval_not_the_reading_before() -> None:
    """Every 5 minutes the meter reads, then the EV's sample reports its draw since the
    last one. The building steps from 10 A to 20 A as the EV steps from 10 A to 0 A: the
    site imports 20 A throughout, but the reading at the step still shows the EV's 10 A
    beside the building's 20 A. Held over the interval it would count 30 A that never
    were; the interval counts the building then and the EV's draw over it."""
    controller = Controller(_site(), ControlSettings(), Solver())
    controller.handle(SessionStarted("a", 1, "tx-1", START), START)
    step = timedelta(minutes=5)
    for k in range(8):
        at = START + k * step
        building_a = 10.0 if k < 3 else 20.0
        ev_before_a = 10.0 if k <= 3 else 0.0  # what the EV drew over the step before
        controller.handle(_reading(at, building_a + ev_before_a), at)
        controller.handle(MeterSample("a", 1, at, "tx-1", (ev_before_a,) * 3), at)
        controller.handle(Tick(at), at)
    view = controller.view(START + 8 * step)
    assert view.demand_peak_w == pytest.approx(3 * 20.0 * 230.0)


def test_without_a_tariff_there_is_no_price() -> None:
    controller = Controller(replace(_site(), tariff=Tariff()), ControlSettings(), Solver())
    assert controller.view(START).price_per_kwh is None


MARCH = datetime(2025, 3, 1, tzinfo=UTC)


def test_a_recalled_peak_of_this_billing_period_is_kept() -> None:
    controller = Controller(_site(), ControlSettings(), Solver())
    controller.handle(DemandRecalled(START, MARCH, 9_000.0), START)
    for second in range(0, 15 * 60 + 1, 10):  # a lower window afterwards
        at = START + timedelta(seconds=second)
        controller.handle(_reading(at, 5.0), at)

    view = controller.view(START + timedelta(minutes=15))

    assert view.demand_peak_w == 9_000.0
    assert view.demand_period_start == MARCH


def test_a_recalled_peak_of_an_earlier_billing_period_is_dropped() -> None:
    controller = Controller(_site(), ControlSettings(), Solver())
    february = datetime(2025, 2, 1, tzinfo=UTC)

    controller.handle(DemandRecalled(START, february, 9_000.0), START)

    view = controller.view(START)
    assert view.demand_peak_w == 0.0
    assert view.demand_period_start is None


def test_a_new_price_series_is_priced_with_and_outlives_a_site_limit_change() -> None:
    controller = Controller(_site(), ControlSettings(), Solver())
    series = (PricePeriod(START, 0.12), PricePeriod(START + timedelta(hours=1), 0.42))

    controller.handle(PricesChanged(START, series), START)
    controller.handle(SiteLimitChanged(START, 40.0, reason="operator override"), START)
    controller.handle(SiteLimitChanged(START, 63.0, reason="override cleared"), START)

    view = controller.view(START + timedelta(minutes=30))
    assert view.price_per_kwh == 0.12
    assert [(p.start, p.price_per_kwh) for p in view.prices_ahead] == [
        (START + timedelta(minutes=30), 0.12),
        (START + timedelta(hours=1), 0.42),
        (START + timedelta(hours=2), 0.3),  # the series over: the fixed price
    ]


def test_the_view_shows_each_connectors_charging_mode() -> None:
    site = _site()
    solar = replace(site.chargers[0], mode=ChargingMode.MIN_SOLAR)
    controller = Controller(replace(site, chargers=(solar,)), ControlSettings(), Solver())

    assert [c.charging_mode for c in controller.view(START).connectors] == ["min+solar"]


def test_an_operators_mode_holds_for_the_session_and_ends_with_it() -> None:
    controller = Controller(_site(), ControlSettings(), Solver())
    controller.handle(SessionStarted("a", 1, "tx-1", START), START)

    controller.handle(ModeChosen("a", 1, START, ChargingMode.SOLAR), START)
    chosen = controller.view(START).connectors[0].charging_mode
    controller.handle(ModeChosen("a", 1, START, None), START)
    cleared = controller.view(START).connectors[0].charging_mode
    controller.handle(ModeChosen("a", 1, START, ChargingMode.FAST), START)
    controller.handle(SessionEnded("a", 1, "tx-1", START), START)
    controller.handle(SessionStarted("a", 1, "tx-2", START), START)

    assert (chosen, cleared) == ("solar", "planned")
    assert controller.view(START).connectors[0].charging_mode == "planned"


def test_a_mode_without_a_session_changes_nothing() -> None:
    controller = Controller(_site(), ControlSettings(), Solver())

    assert controller.handle(ModeChosen("a", 1, START, ChargingMode.SOLAR), START) == []
    assert controller.handle(ModeChosen("zz", 1, START, ChargingMode.SOLAR), START) == []
    assert controller.view(START).connectors[0].charging_mode == "planned"
