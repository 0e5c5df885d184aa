"""Seeded scenarios where what power costs matters: day-ahead prices, a capacity tariff,
rooftop PV. `scenarios/generate.py` writes the shipped ones; `benchmarks/cost.py` replays
a family of them.

The day-ahead shape follows the European market of recent years: cheap at night, a
morning peak (7–9 h), a midday dip as solar floods the market (11–15 h), the highest
evening peak (17–20 h); each day is scaled and shifted by its seed, with hourly noise.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ems.replay.scenario import PricePoint, PvPoint, Scenario
from ems.replay.synthetic import Visits, chargers, daily_load, visit_sessions
from ems.site import SiteConfig
from ems.tariff import Tariff
from optimizer.problem import Phase, SiteLimits

DAY_AHEAD_SHAPE = (
    (0.0, 0.8),
    (5.0, 0.75),
    (8.0, 1.25),
    (10.0, 1.0),
    (13.0, 0.55),
    (16.0, 0.95),
    (19.0, 1.5),
    (22.0, 1.05),
    (24.0, 0.85),
)
"""(hour, share of the day's mean price): the shape of a day-ahead price curve."""
OFFICE_LOAD = ((0.0, 25.0), (7.0, 35.0), (9.0, 70.0), (12.0, 80.0), (17.0, 60.0), (19.0, 30.0))
SUNRISE_H = 6.5
SUNSET_H = 19.5


def day_ahead_prices(day: datetime, rng: random.Random, hours: int = 24) -> list[PricePoint]:
    """Hourly import prices per kWh (energy plus a fixed grid fee) of one day."""
    mean = rng.uniform(0.08, 0.14)
    spread = rng.uniform(0.7, 1.3)
    fee = 0.12
    prices = []
    for h in range(hours):
        share = 1.0 + spread * (_interpolate(DAY_AHEAD_SHAPE, h % 24 + 0.5) - 1.0)
        price = fee + mean * share + rng.uniform(-0.005, 0.005)
        prices.append(PricePoint(day + timedelta(hours=h), round(price, 4)))
    return prices


def pv_profile(day: datetime, peak_kw: float, rng: random.Random) -> list[PvPoint]:
    """Quarter-hourly PV production of one day: a sine from sunrise to sunset, dimmed by
    passing clouds."""
    points = []
    clouds = rng.uniform(0.0, 0.5)
    for quarter in range(96):
        hour = quarter / 4.0
        sun = 0.0
        if SUNRISE_H < hour < SUNSET_H:
            sun = math.sin(math.pi * (hour - SUNRISE_H) / (SUNSET_H - SUNRISE_H)) ** 1.5
        dim = 1.0 - clouds * rng.random()
        power_w = round(peak_kw * sun * dim, 2) * 1000.0
        points.append(PvPoint(day + timedelta(minutes=15 * quarter), power_w))
    return points


def _interpolate(shape: tuple[tuple[float, float], ...], hour: float) -> float:
    for (h0, v0), (h1, v1) in itertools.pairwise(shape):
        if h0 <= hour <= h1:
            return v0 + (v1 - v0) * (hour - h0) / (h1 - h0)
    return shape[-1][1]


def office_day_ahead(seed: int = 6, connectors: int = 30, limit_a: float = 350.0) -> Scenario:
    """An office whose fuse holds every car at full power: day-ahead prices and a
    capacity tariff (the month's charge per kW of peak, prorated to the day) make when
    it charges matter."""
    rng = random.Random(seed)
    day = datetime(2025, 10, 7, tzinfo=UTC)
    site = SiteConfig(
        name="office-day-ahead",
        limits=SiteLimits(phase_limit_a=limit_a),
        chargers=chargers(connectors // 2, 2, 16.0, one_phase_every=5),
        worst_base_load_a=(90.0, 90.0, 90.0),
        tariff=Tariff(demand_price_per_kw=0.4, export_price_per_kwh=0.05),
    )
    visits = Visits(arrival_h=(7.0, 9.5), stay_h=(7.0, 10.0), energy_kwh=(6.0, 30.0))
    sessions = visit_sessions(rng, site, day, visits, occupancy=0.9, prefix="o")
    jitter = [rng.uniform(-4.0, 4.0) for _ in range(24)]
    return Scenario(
        "office-day-ahead",
        site,
        tuple(sessions),
        base_load=tuple(daily_load(day, timedelta(minutes=15), list(OFFICE_LOAD), jitter)),
        prices=tuple(day_ahead_prices(day, rng)),
    )


def rooftop_pv(seed: int = 7, connectors: int = 12, pv_peak_kw: float = 60.0) -> Scenario:
    """A small business with rooftop PV behind the site meter: a fixed import price and a
    low feed-in price; at midday the base load net of PV goes negative (the site exports),
    and every kWh an EV takes from it instead of the grid saves the difference.

    The site states its PV (`pv_peak_a`, the inverter's peak spread over the phases), as
    an installer would: without it, the site meter reading less than the chargers behind
    it draw (the PV feeding them) is a meter that does not see them, and the controller
    falls back to the worst base load at the very hours the surplus is there to take (on
    the family's `pv-11` that left 22 of 289 kWh undelivered, where every baseline
    delivered all)."""
    rng = random.Random(seed)
    day = datetime(2025, 6, 10, tzinfo=UTC)
    limits = SiteLimits(phase_limit_a=100.0)
    pv_a = round(pv_peak_kw * 1000.0 / (len(Phase) * limits.voltage_v), 1)
    site = SiteConfig(
        name="rooftop-pv",
        limits=limits,
        chargers=chargers(connectors // 2, 2, 16.0, one_phase_every=3),
        worst_base_load_a=(40.0, 40.0, 40.0),
        pv_peak_a=(pv_a, pv_a, pv_a),
        tariff=Tariff(fixed_price_per_kwh=0.30, export_price_per_kwh=0.07),
    )
    visits = Visits(arrival_h=(7.0, 10.0), stay_h=(5.0, 9.0), energy_kwh=(5.0, 25.0))
    sessions = visit_sessions(rng, site, day, visits, occupancy=0.9, prefix="p")
    shop = [(0.0, 10.0), (7.0, 20.0), (9.0, 35.0), (17.0, 30.0), (20.0, 12.0), (24.0, 10.0)]
    jitter = [rng.uniform(-3.0, 3.0) for _ in range(24)]
    base = daily_load(day, timedelta(minutes=15), shop, jitter)
    return Scenario(
        "rooftop-pv",
        site,
        tuple(sessions),
        base_load=tuple(base),
        pv=tuple(pv_profile(day, pv_peak_kw, rng)),
    )


def cost_family(count: int, seed: int = 100) -> list[Scenario]:
    """`count` scenarios, in turn an office day with day-ahead prices and a capacity
    tariff (its own fleet, price day and fuse, from holding every car to about two thirds
    of them) and a rooftop-PV site (its own fleet and PV size)."""
    rng = random.Random(seed)
    scenarios = []
    for n in range(count):
        connectors = rng.choice((12, 16, 20, 24, 30))
        if n % 2 == 0:
            limit_a = rng.choice((120.0, 160.0, 250.0))
            scenario = office_day_ahead(rng.randrange(1_000_000), connectors, limit_a)
            name = f"office-{n:02d}"
        else:
            pv_kw = rng.choice((40.0, 60.0, 90.0))
            scenario = rooftop_pv(rng.randrange(1_000_000), connectors, pv_kw)
            name = f"pv-{n:02d}"
        scenarios.append(replace(scenario, name=name))
    return scenarios


COST_REFERENCE = {"office-day-ahead": office_day_ahead, "rooftop-pv": rooftop_pv}
"""The shipped scenarios about cost, by folder name."""
