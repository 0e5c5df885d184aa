"""Seeded generators of the reference scenarios and of the synthetic year.

Pure: they return `Scenario` objects; `scenarios/generate.py` writes the shipped ones to
files and `benchmarks/replay.py` builds the year in memory. The same seed always gives the
same scenario.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ems.replay.scenario import BaseLoadPoint, PricePoint, Scenario, SessionSpec
from ems.site import ChargerConfig, ConnectorConfig, SiteConfig
from optimizer.problem import Circuit, Phase, PhaseTriple, SiteLimits

THREE_PHASE = (Phase.L1, Phase.L2, Phase.L3)
_ROTATIONS = (THREE_PHASE, (Phase.L2, Phase.L3, Phase.L1), (Phase.L3, Phase.L1, Phase.L2))
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Visits:
    """How drivers come: arrival hour window, stay in hours, energy in kWh (uniform
    ranges), and the share of 1-phase EVs."""

    arrival_h: tuple[float, float]
    stay_h: tuple[float, float]
    energy_kwh: tuple[float, float]
    one_phase_share: float = 0.25


def chargers(
    count: int,
    connectors_each: int,
    max_current_a: float,
    *,
    one_phase_every: int = 0,
    circuits: tuple[str | None, ...] = (),
    prefix: str = "cp",
) -> tuple[ChargerConfig, ...]:
    """Chargers with rotated phases; every `one_phase_every`-th charger is 1-phase,
    placed on the phases in turn; chargers are spread over `circuits` in blocks."""
    chargers = []
    for n in range(count):
        one_phase = one_phase_every > 0 and n % one_phase_every == one_phase_every - 1
        phases = (_ROTATIONS[n % 3][0],) if one_phase else _ROTATIONS[n % 3]
        circuit = circuits[n * len(circuits) // count] if circuits else None
        charger_id = f"{prefix}{n + 1:03d}"
        chargers.append(
            ChargerConfig(
                id=charger_id,
                connectors=tuple(
                    ConnectorConfig(charger_id, c + 1, phases, max_current_a, circuit=circuit)
                    for c in range(connectors_each)
                ),
            )
        )
    return tuple(chargers)


def visit_sessions(
    rng: random.Random,
    site: SiteConfig,
    day: datetime,
    visits: Visits,
    occupancy: float,
    prefix: str,
) -> list[SessionSpec]:
    """At most one visit per connector starting on `day`; a connector is used with
    probability `occupancy`."""
    sessions: list[SessionSpec] = []
    voltage_v = site.limits.voltage_v
    for connector in site.connectors():
        if rng.random() > occupancy:
            continue
        arrival = day + timedelta(hours=rng.uniform(*visits.arrival_h))
        arrival = arrival.replace(second=0, microsecond=0)
        stay = timedelta(hours=rng.uniform(*visits.stay_h))
        departure = (arrival + stay).replace(second=0, microsecond=0)
        phases = 1 if rng.random() < visits.one_phase_share else 3
        max_power_w = rng.choice((11_000.0, 7_400.0, 22_000.0))
        if phases == 1:
            max_power_w = rng.choice((3_700.0, 7_400.0))
        max_power_w = min(max_power_w, connector.max_current_a * voltage_v * phases)
        energy_kwh = round(rng.uniform(*visits.energy_kwh), 1)
        sessions.append(
            SessionSpec(
                session_id=f"{prefix}-{len(sessions) + 1:04d}",
                connector=connector.key,
                arrival=arrival,
                departure=departure,
                energy_wh=energy_kwh * 1000.0,
                max_power_w=max_power_w,
                phases=phases,
            )
        )
    return sessions


def daily_load(
    day: datetime, step: timedelta, shape: list[tuple[float, float]], jitter: list[float]
) -> list[BaseLoadPoint]:
    """Base load over one day from a piecewise-linear shape of (hour, A per phase), with
    per-point noise and a fixed per-phase imbalance."""
    points = []
    moments = int(DAY / step)
    for i in range(moments):
        hour = i * step.total_seconds() / 3600.0
        value = _interpolate(shape, hour) + jitter[i % len(jitter)]
        triple: PhaseTriple = (value * 1.05, value * 0.95, value)
        points.append(BaseLoadPoint(day + i * step, tuple(round(v, 1) for v in triple)))  # type: ignore[arg-type]
    return points


def _interpolate(shape: list[tuple[float, float]], hour: float) -> float:
    for (h0, v0), (h1, v1) in itertools.pairwise(shape):
        if h0 <= hour <= h1:
            return v0 + (v1 - v0) * (hour - h0) / (h1 - h0)
    return shape[-1][1]


def _day_ahead_prices(day: datetime, hours: int) -> list[PricePoint]:
    """Hourly prices with a morning and an evening peak (per kWh)."""
    return [
        PricePoint(
            day + timedelta(hours=h),
            round(0.20 + 0.08 * math.sin((h % 24 - 8) / 24 * 2 * math.pi) ** 2 + 0.002 * h % 3, 4),
        )
        for h in range(hours)
    ]


def small(seed: int = 1) -> Scenario:
    """Six connectors on a 40 A site for six hours: a circuit, a 1-phase charger, rotated
    phases; congested enough that uncontrolled charging trips the fuse."""
    rng = random.Random(seed)
    day = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    site = SiteConfig(
        name="small",
        limits=SiteLimits(phase_limit_a=40.0),
        chargers=chargers(3, 2, 16.0, one_phase_every=3, circuits=(None, "deck")),
        circuits=(Circuit("deck", 20.0),),
        worst_base_load_a=(10.0, 10.0, 10.0),
    )
    visits = Visits(arrival_h=(0.0, 2.0), stay_h=(2.0, 4.0), energy_kwh=(4.0, 14.0))
    sessions = visit_sessions(rng, site, day, visits, occupancy=1.0, prefix="s")
    shape = [(0.0, 4.0), (3.0, 8.0), (6.0, 5.0)]
    base = [
        p
        for p in daily_load(day, timedelta(minutes=15), shape, [0.0])
        if p.at < day + timedelta(hours=6)
    ]
    return Scenario("small", site, tuple(sessions), base_load=tuple(base))


def workplace_day(seed: int = 2) -> Scenario:
    """55 connectors at an office, drivers arriving 7–10 h and staying 6–10 h; a 250 A site
    with two parking-deck circuits and an office base load; hourly prices."""
    rng = random.Random(seed)
    day = datetime(2025, 3, 4, tzinfo=UTC)
    decks = ("deck-a", "deck-b")
    site = SiteConfig(
        name="workplace-day",
        limits=SiteLimits(phase_limit_a=250.0),
        chargers=(
            *chargers(27, 2, 16.0, one_phase_every=9, circuits=decks),
            *chargers(1, 1, 16.0, prefix="visitor"),
        ),
        circuits=(Circuit("deck-a", 125.0), Circuit("deck-b", 125.0)),
        worst_base_load_a=(100.0, 100.0, 100.0),
    )
    visits = Visits(arrival_h=(7.0, 10.0), stay_h=(6.0, 10.0), energy_kwh=(5.0, 30.0))
    sessions = visit_sessions(rng, site, day, visits, occupancy=0.85, prefix="w")
    office = [
        (0.0, 30.0),
        (7.0, 40.0),
        (9.0, 80.0),
        (12.0, 90.0),
        (17.0, 70.0),
        (19.0, 40.0),
        (24.0, 30.0),
    ]
    jitter = [rng.uniform(-5.0, 5.0) for _ in range(24)]
    return Scenario(
        "workplace-day",
        site,
        tuple(sessions),
        base_load=tuple(daily_load(day, timedelta(minutes=5), office, jitter)),
        prices=tuple(_day_ahead_prices(day, 24)),
    )


def depot_overnight(seed: int = 3) -> Scenario:
    """30 delivery vans on 22 kW connectors from late afternoon to early morning, under a
    400 A site whose warehouse load peaks in the evening."""
    rng = random.Random(seed)
    noon = datetime(2025, 3, 5, 12, tzinfo=UTC)
    site = SiteConfig(
        name="depot-overnight",
        limits=SiteLimits(phase_limit_a=400.0),
        chargers=chargers(15, 2, 32.0, prefix="van"),
        worst_base_load_a=(250.0, 250.0, 250.0),
    )
    visits = Visits(
        arrival_h=(4.0, 8.0), stay_h=(9.0, 13.0), energy_kwh=(30.0, 70.0), one_phase_share=0.1
    )
    sessions = visit_sessions(rng, site, noon, visits, occupancy=1.0, prefix="d")
    warehouse = [
        (0.0, 150.0),
        (5.0, 220.0),
        (8.0, 200.0),
        (11.0, 120.0),
        (18.0, 100.0),
        (24.0, 150.0),
    ]
    jitter = [rng.uniform(-10.0, 10.0) for _ in range(48)]
    return Scenario(
        "depot-overnight",
        site,
        tuple(sessions),
        base_load=tuple(daily_load(noon, timedelta(minutes=15), warehouse, jitter)),
        prices=tuple(_day_ahead_prices(noon, 24)),
    )


def residential_garage(seed: int = 4) -> Scenario:
    """220 connectors in an apartment garage on four floor circuits: residents plug in
    16–21 h and leave in the morning; half the chargers are 1-phase; the building's own
    load peaks in the evening."""
    rng = random.Random(seed)
    noon = datetime(2025, 3, 6, 12, tzinfo=UTC)
    floors = ("floor-1", "floor-2", "floor-3", "floor-4")
    site = SiteConfig(
        name="residential-garage",
        limits=SiteLimits(phase_limit_a=250.0),
        chargers=chargers(110, 2, 16.0, one_phase_every=2, circuits=floors, prefix="g"),
        circuits=tuple(Circuit(f, 80.0) for f in floors),
        worst_base_load_a=(150.0, 150.0, 150.0),
    )
    visits = Visits(arrival_h=(4.0, 9.0), stay_h=(10.0, 15.0), energy_kwh=(5.0, 25.0))
    sessions = visit_sessions(rng, site, noon, visits, occupancy=0.6, prefix="r")
    homes = [(0.0, 50.0), (6.0, 110.0), (10.0, 90.0), (14.0, 40.0), (19.0, 70.0), (24.0, 50.0)]
    jitter = [rng.uniform(-8.0, 8.0) for _ in range(48)]
    return Scenario(
        "residential-garage",
        site,
        tuple(sessions),
        base_load=tuple(daily_load(noon, timedelta(minutes=15), homes, jitter)),
    )


def synthetic_year(connectors: int = 50, seed: int = 5) -> Scenario:
    """A year of a workplace with `connectors` connectors: busy weekdays, quiet weekends,
    an office base load every day."""
    rng = random.Random(seed)
    first = datetime(2025, 1, 1, tzinfo=UTC)
    site = SiteConfig(
        name="synthetic-year",
        limits=SiteLimits(phase_limit_a=5.0 * connectors),
        chargers=chargers(connectors, 1, 16.0, one_phase_every=9),
        worst_base_load_a=(100.0, 100.0, 100.0),
    )
    visits = Visits(arrival_h=(7.0, 10.0), stay_h=(6.0, 10.0), energy_kwh=(5.0, 30.0))
    office = [
        (0.0, 30.0),
        (7.0, 40.0),
        (9.0, 80.0),
        (12.0, 90.0),
        (17.0, 70.0),
        (19.0, 40.0),
        (24.0, 30.0),
    ]
    jitter = [rng.uniform(-5.0, 5.0) for _ in range(24)]
    sessions: list[SessionSpec] = []
    base: list[BaseLoadPoint] = []
    for d in range(365):
        day = first + d * DAY
        occupancy = 0.8 if day.weekday() < 5 else 0.2
        sessions += visit_sessions(rng, site, day, visits, occupancy, prefix=f"y{d:03d}")
        base += daily_load(day, timedelta(hours=1), office, jitter)
    return Scenario("synthetic-year", site, tuple(sessions), base_load=tuple(base))


REFERENCE = {
    "small": small,
    "workplace-day": workplace_day,
    "depot-overnight": depot_overnight,
    "residential-garage": residential_garage,
}
"""The shipped scenarios, by folder name."""
