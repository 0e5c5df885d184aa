"""The controller counts the site meter into the billing period's peak, and shows it with
the price now."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ems.controller import Controller
from ems.events import MeterReading
from ems.site import ChargerConfig, ConnectorConfig, ControlSettings, SiteConfig
from ems.tariff import Tariff
from optimizer.problem import Phase, SiteLimits
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
    for second in range(0, 30 * 60 + 1, 10):
        at = START + timedelta(seconds=second)
        amps = 20.0 if second < 15 * 60 else 10.0
        controller.handle(_reading(at, amps), at)
    view = controller.view(START + timedelta(minutes=30))
    assert view.demand_peak_w == pytest.approx(3 * 20.0 * 230.0)
    assert view.price_per_kwh == 0.3


def test_without_a_tariff_there_is_no_price() -> None:
    controller = Controller(replace(_site(), tariff=Tariff()), ControlSettings(), Solver())
    assert controller.view(START).price_per_kwh is None
