"""What the site pays: the bill's KPIs by hand, and the controller against the baselines
and the cost-minimising hindsight bound on the shipped cost scenarios (real HiGHS)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.files.scenario import load_scenario
from ems.replay import ReplayOptions, compute_kpis, replay
from ems.replay.kpis import Kpis
from ems.replay.scenario import BaseLoadPoint, PvPoint, Scenario, SessionSpec
from ems.tariff import Tariff
from tests.ems.replay.conftest import START, roomy_site, session

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
BASELINES = ("uncontrolled", "equal", "fcfs", "round_robin", "edf", "llf")
HOUR = timedelta(hours=1)


def _sunny_then_dark() -> Scenario:
    """No charging; 10 A per phase of base load (6.9 kW) for two hours, 20 kW of PV in
    the first."""
    tariff = Tariff(fixed_price_per_kwh=0.3, export_price_per_kwh=0.07, demand_price_per_kw=9.0)
    idle = SessionSpec("idle", "a/1", START, START + 2 * HOUR, 0.0, 11_000.0)
    return Scenario(
        "sunny",
        replace(roomy_site(), tariff=tariff),
        (idle,),
        base_load=(BaseLoadPoint(START, (10.0, 10.0, 10.0)),),
        pv=(PvPoint(START, 20_000.0), PvPoint(START + HOUR, 0.0)),
    )


def test_the_bill_by_hand() -> None:
    kpis = compute_kpis(replay(_sunny_then_dark(), "uncontrolled"))
    assert kpis.export_kwh == pytest.approx(20.0 - 6.9)
    assert kpis.pv_self_consumption_pct == pytest.approx(100.0 * 6.9 / 20.0)
    assert kpis.energy_cost == pytest.approx(6.9 * 0.3 - 13.1 * 0.07)
    assert kpis.peak_import_kw == pytest.approx(6.9)
    assert kpis.demand_charge == pytest.approx(6.9 * 9.0)
    assert kpis.total_cost == pytest.approx(6.9 * 0.3 - 13.1 * 0.07 + 6.9 * 9.0)


def _kpis(name: str, strategies: tuple[str, ...]) -> dict[str, Kpis]:
    loaded = load_scenario(SCENARIOS / name)
    options = ReplayOptions()
    return {
        s: compute_kpis(replay(loaded.scenario, s, options, loaded.control)) for s in strategies
    }


def test_the_office_pays_least_under_the_controller() -> None:
    """Day-ahead prices and a capacity tariff, a fuse that holds every car: the
    controller delivers as much as any baseline, pays less than each, and within 3 % of
    the least a hindsight plan of the same energy pays."""
    kpis = _kpis("office-day-ahead", (*BASELINES, "optimal", "offline"))
    optimal = kpis["optimal"]
    assert optimal.limit_violation_steps == 0
    for name in BASELINES:
        assert optimal.energy_delivered_kwh >= kpis[name].energy_delivered_kwh - 1e-6
        assert optimal.total_cost is not None
        assert optimal.total_cost < kpis[name].total_cost  # type: ignore[operator]
    offline = kpis["offline"]
    assert offline.energy_delivered_kwh == pytest.approx(optimal.energy_delivered_kwh, abs=0.01)
    assert optimal.total_cost <= 1.03 * offline.total_cost  # type: ignore[operator]
    assert optimal.peak_import_kw < min(kpis[b].peak_import_kw for b in BASELINES)


def test_the_rooftop_pv_is_used_on_site() -> None:
    """Fixed import price, low feed-in: the controller takes the surplus the baselines
    export. It delivers all 153.9 kWh, as the baselines do; before the site stated its PV
    (`pv_peak_a`) it delivered 0.31 kWh less, its meter distrusted while the PV fed the
    chargers. The tolerance is kept for an EV's real battery tail, steeper than the one
    the plan assumes."""
    kpis = _kpis("rooftop-pv", ("uncontrolled", "equal", "edf", "optimal", "offline"))
    optimal, offline = kpis["optimal"], kpis["offline"]
    for name in ("uncontrolled", "equal", "edf"):
        baseline = kpis[name]
        assert optimal.energy_delivered_kwh >= baseline.energy_delivered_kwh - 0.35
        assert optimal.energy_cost < baseline.energy_cost  # type: ignore[operator]
        assert optimal.export_kwh < baseline.export_kwh
    assert optimal.pv_self_consumption_pct is not None
    assert offline.pv_self_consumption_pct is not None
    assert optimal.pv_self_consumption_pct >= offline.pv_self_consumption_pct - 3.0


def _building_rises_later() -> Scenario:
    """A capacity tariff and a flat price; the building draws 5 A per phase for two hours,
    then 40 A; one EV stays all four hours and needs what it can take in the first two at
    about 10 kW."""
    tariff = Tariff(fixed_price_per_kwh=0.3, demand_price_per_kw=12.0)
    ev = session("ev", "a/1", 0.0, 4.0, 20.0)
    return Scenario(
        "rising",
        replace(roomy_site(), tariff=tariff),
        (ev,),
        base_load=(
            BaseLoadPoint(START, (5.0, 5.0, 5.0)),
            BaseLoadPoint(START + 2 * HOUR, (40.0, 40.0, 40.0)),
        ),
    )


def test_charging_waits_for_no_peak_that_the_building_will_set_anyway() -> None:
    """The building's later rise is forecast: the EV charges while the building is low,
    and the billing peak is the building's own, as in hindsight. Held at the present
    building load, the plan spread the charging over the stay and added it to the rise."""
    scenario = _building_rises_later()
    kpis = {s: compute_kpis(replay(scenario, s)) for s in ("optimal", "offline")}
    building_kw = 3 * 40.0 * 230.0 / 1000.0
    delivered = kpis["optimal"].energy_delivered_kwh
    assert delivered == pytest.approx(kpis["offline"].energy_delivered_kwh, rel=1e-3)
    assert kpis["offline"].peak_import_kw == pytest.approx(building_kw, rel=0.01)
    assert kpis["optimal"].peak_import_kw <= 1.03 * kpis["offline"].peak_import_kw
