"""A seeded family of generated scenarios, many shapes rather than four fixtures, for
measuring allocation quality on sites nobody tuned on (`benchmarks/quality.py`).

Pure: `generate(shape, seed)` returns a `Scenario` and the parameters drawn for it; the
same shape and seed always give the same scenario. Each scenario is one day (24 h from
its start) at one site. What varies, drawn from the seed:

- the shape: `workplace` (morning arrivals, day stays), `depot` (vans from the late
  afternoon to the early morning, large requests), `residential` (evening arrivals,
  overnight stays, many 1-phase EVs), `mixed` (each connector a workplace or a resident);
- the wiring: every connector 3-phase (rotated), every connector 1-phase (spread over the
  phases), or a mix; 1-phase EVs on 3-phase connectors; EV maxima below the connector's;
- the number of connectors, log-uniform from `min_connectors` to `max_connectors`;
  above 20, circuits (one per block of connectors) narrower than the site;
- the fuse: the building's peak plus `fuse_factor` times the average current the
  requests need over the day (at least `MIN_HEADROOM_A`); below about 1 the fuse binds on
  energy, above about 3 it only caps power;
- the building load: flat or varying (a shape per site type, with noise);
- the connectors' minimum current: 0 A or 6 A;
- sometimes a total power cap: the building's peak plus 80 % of the fuse's headroom.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ems.replay.scenario import BaseLoadPoint, LimitPoint, Scenario, SessionSpec
from ems.site import ChargerConfig, ConnectorConfig, SiteConfig
from optimizer.problem import Circuit, Phase, PhaseTriple, SiteLimits

SHAPES = ("workplace", "depot", "residential", "mixed")
"""The site types the family draws from."""

WIRINGS = ("3-phase", "1-phase", "mixed")

LOAD_STEP = timedelta(minutes=15)
DAY_H = 24.0
VOLTAGE_V = 230.0
MIN_HEADROOM_A = 16.0
"""The least the fuse leaves above the building's peak: room for one EV at least."""
CIRCUIT_BLOCK = 20
"""Connectors per circuit on sites larger than one block."""


@dataclass(frozen=True)
class _Visits:
    """Arrival window in hours after the scenario's start, stay in hours, request in kWh,
    share of 1-phase EVs, connector maximum (A), occupancy, and the building load shape
    as (hour after start, fraction of its peak)."""

    arrival_h: tuple[float, float]
    stay_h: tuple[float, float]
    energy_kwh: tuple[float, float]
    one_phase_share: float
    connector_a: tuple[float, ...]
    occupancy: float
    start_hour: int
    load_shape: tuple[tuple[float, float], ...]


_OFFICE = ((0.0, 0.3), (7.0, 0.45), (9.0, 0.9), (12.0, 1.0), (17.0, 0.75), (19.0, 0.4), (24.0, 0.3))
_WAREHOUSE = ((0.0, 0.7), (5.0, 1.0), (8.0, 0.9), (11.0, 0.55), (18.0, 0.45), (24.0, 0.7))
_HOMES = ((0.0, 0.45), (6.0, 1.0), (10.0, 0.8), (14.0, 0.35), (19.0, 0.6), (24.0, 0.45))

_VISITS = {
    "workplace": _Visits(
        (7.0, 10.0), (6.0, 10.0), (5.0, 30.0), 0.25, (16.0, 32.0), 0.85, 0, _OFFICE
    ),
    "depot": _Visits((4.0, 8.0), (9.0, 13.0), (30.0, 70.0), 0.1, (32.0,), 0.95, 12, _WAREHOUSE),
    "residential": _Visits((4.0, 9.0), (10.0, 15.0), (5.0, 25.0), 0.5, (16.0,), 0.6, 12, _HOMES),
}
_MIXED_EVENING = _Visits((17.5, 21.0), (8.0, 12.0), (5.0, 25.0), 0.5, (16.0,), 0.6, 0, _OFFICE)


@dataclass(frozen=True)
class FamilyParams:
    """What was drawn for one generated scenario."""

    shape: str
    seed: int
    connectors: int
    wiring: str
    fuse_factor: float
    varying_load: bool
    min_current_a: float
    power_cap: bool


@dataclass(frozen=True)
class Generated:
    params: FamilyParams
    scenario: Scenario


def generate(
    shape: str, seed: int, *, min_connectors: int = 10, max_connectors: int = 300
) -> Generated:
    """One scenario of `shape` drawn from `seed`."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose from {', '.join(SHAPES)}")
    if not 1 <= min_connectors <= max_connectors:
        raise ValueError("need 1 <= min_connectors <= max_connectors")
    rng = random.Random(f"{shape}/{seed}")
    count = round(math.exp(rng.uniform(math.log(min_connectors), math.log(max_connectors))))
    params = FamilyParams(
        shape=shape,
        seed=seed,
        connectors=count,
        wiring=rng.choice(WIRINGS),
        fuse_factor=round(math.exp(rng.uniform(math.log(0.5), math.log(4.0))), 3),
        varying_load=rng.random() < 0.6,
        min_current_a=rng.choice((0.0, 6.0)),
        power_cap=rng.random() < 0.3,
    )
    visits = _VISITS["workplace" if shape == "mixed" else shape]
    start = datetime(2025, 3, 3, visits.start_hour, tzinfo=UTC) + timedelta(days=seed % 300)
    connectors = _connectors(rng, params, visits)
    sessions = _sessions(rng, shape, connectors, start)
    base_peak_a = rng.uniform(0.1, 0.4) * _site_max_a(connectors)
    need_a = _average_need_a(sessions)
    fuse_a = round(base_peak_a + max(params.fuse_factor * need_a, MIN_HEADROOM_A), 1)
    blocks = math.ceil(count / CIRCUIT_BLOCK) if count > CIRCUIT_BLOCK else 0
    circuits = tuple(
        Circuit(f"c{b + 1}", round(max(fuse_a / blocks * rng.uniform(1.2, 2.0), 20.0), 1))
        for b in range(blocks)
    )
    if blocks:
        connectors = [
            ConnectorConfig(
                c.charger_id,
                1,
                c.phases,
                c.max_current_a,
                c.min_current_a,
                f"c{i // CIRCUIT_BLOCK + 1}",
            )
            for i, c in enumerate(connectors)
        ]
    site = SiteConfig(
        name=f"{shape}-{seed}",
        limits=SiteLimits(phase_limit_a=fuse_a),
        chargers=tuple(ChargerConfig(c.charger_id, (c,)) for c in connectors),
        circuits=circuits,
        worst_base_load_a=(base_peak_a, base_peak_a, base_peak_a),
    )
    limits: tuple[LimitPoint, ...] = ()
    if params.power_cap:
        # The building's peak plus 80 % of the fuse's headroom: binds, never by itself.
        cap_w = round((3 * base_peak_a + 0.8 * 3 * (fuse_a - base_peak_a)) * VOLTAGE_V, -2)
        limits = (LimitPoint(start, fuse_a, cap_w),)
    base = _base_load(rng, start, visits.load_shape, base_peak_a, params.varying_load)
    scenario = Scenario(site.name, site, tuple(sessions), base_load=base, limits=limits)
    return Generated(params, scenario)


def family(
    count: int, seed: int = 0, *, min_connectors: int = 10, max_connectors: int = 300
) -> list[Generated]:
    """`count` scenarios, the shapes in turn, seeds `seed`, `seed + 1`, ..."""
    return [
        generate(
            SHAPES[i % len(SHAPES)],
            seed + i,
            min_connectors=min_connectors,
            max_connectors=max_connectors,
        )
        for i in range(count)
    ]


_ROTATIONS = (
    (Phase.L1, Phase.L2, Phase.L3),
    (Phase.L2, Phase.L3, Phase.L1),
    (Phase.L3, Phase.L1, Phase.L2),
)


def _connectors(rng: random.Random, params: FamilyParams, visits: _Visits) -> list[ConnectorConfig]:
    connectors = []
    for n in range(params.connectors):
        one_phase = params.wiring == "1-phase" or (params.wiring == "mixed" and rng.random() < 0.4)
        rotation = _ROTATIONS[n % 3]
        connectors.append(
            ConnectorConfig(
                f"cp{n + 1:03d}",
                1,
                rotation[:1] if one_phase else rotation,
                rng.choice(visits.connector_a),
                params.min_current_a,
            )
        )
    return connectors


def _sessions(
    rng: random.Random, shape: str, connectors: list[ConnectorConfig], start: datetime
) -> list[SessionSpec]:
    """At most one visit per connector, arrivals and departures on whole minutes, every
    departure within the day."""
    end = start + timedelta(hours=DAY_H)
    sessions: list[SessionSpec] = []
    for connector in connectors:
        visits = _VISITS["workplace" if shape == "mixed" else shape]
        if shape == "mixed" and rng.random() < 0.5:
            visits = _MIXED_EVENING
        if rng.random() > visits.occupancy:
            continue
        arrival = start + timedelta(minutes=round(60 * rng.uniform(*visits.arrival_h)))
        departure = arrival + timedelta(minutes=round(60 * rng.uniform(*visits.stay_h)))
        phases = 1 if rng.random() < visits.one_phase_share else 3
        phases = min(phases, len(connector.phases))
        max_power_w = (
            rng.choice((3_700.0, 7_400.0))
            if phases == 1
            else rng.choice((7_400.0, 11_000.0, 22_000.0))
        )
        sessions.append(
            SessionSpec(
                session_id=f"s{len(sessions) + 1:04d}",
                connector=connector.key,
                arrival=arrival,
                departure=min(departure, end),
                energy_wh=round(rng.uniform(*visits.energy_kwh), 1) * 1000.0,
                max_power_w=max_power_w,
                phases=phases,
            )
        )
    return sessions


def _site_max_a(connectors: list[ConnectorConfig]) -> float:
    """The busiest phase's current with every connector at its maximum."""
    per_phase = [0.0, 0.0, 0.0]
    for c in connectors:
        for p in c.phases:
            per_phase[p] += c.max_current_a
    return max(per_phase)


def _average_need_a(sessions: list[SessionSpec]) -> float:
    """The per-phase current that delivers every request, spread evenly over the phases
    and over the hours in which anyone is plugged in."""
    if not sessions:
        return 0.0
    first = min(s.arrival for s in sessions)
    last = max(s.departure for s in sessions)
    hours = max((last - first).total_seconds() / 3600.0, 1.0)
    return sum(s.energy_wh for s in sessions) / (3 * VOLTAGE_V * hours)


def _base_load(
    rng: random.Random,
    start: datetime,
    shape: tuple[tuple[float, float], ...],
    peak_a: float,
    varying: bool,
) -> tuple[BaseLoadPoint, ...]:
    if not varying:
        flat: PhaseTriple = (peak_a, peak_a, peak_a)
        return (BaseLoadPoint(start, flat),)
    points = []
    for i in range(int(DAY_H * 3600 / LOAD_STEP.total_seconds())):
        hour = i * LOAD_STEP.total_seconds() / 3600.0
        value = peak_a * min(1.0, max(0.0, _interpolate(shape, hour) + rng.uniform(-0.05, 0.05)))
        triple: PhaseTriple = (round(value, 1), round(value * 0.9, 1), round(value * 0.95, 1))
        points.append(BaseLoadPoint(start + i * LOAD_STEP, triple))
    return tuple(points)


def _interpolate(shape: tuple[tuple[float, float], ...], hour: float) -> float:
    for (h0, v0), (h1, v1) in itertools.pairwise(shape):
        if h0 <= hour <= h1:
            return v0 + (v1 - v0) * (hour - h0) / (h1 - h0)
    return shape[-1][1]
