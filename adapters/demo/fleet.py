"""Who parks where and when: a seeded, deterministic plan of EV arrivals and departures.

Sans-I/O: `Fleet.due(now)` returns the arrivals and departures whose time has come, in
time order; `FleetDriver` carries them out on the simulated chargers. Each connector has
its own random stream derived from the seed and its name, so the plan does not depend on
how often `due` is asked nor on how many other connectors there are.

At the start most connectors get an EV within the first minutes (a newcomer should see
sharing at once); after that each EV stays for a random dwell time and the connector
stays free for an exponentially distributed gap before the next one arrives.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.ocpp.sim import SimulatedEV
from ems.site import connector_key


@dataclass(frozen=True)
class Slot:
    """A connector EVs park at. `number_phases` is how it is wired (1 or 3)."""

    charger_id: str
    connector_id: int
    number_phases: int = 3

    @property
    def key(self) -> str:
        return connector_key(self.charger_id, self.connector_id)


@dataclass(frozen=True)
class EvSpec:
    """An arriving EV. `phases` is what its on-board charger uses (1 or 3); on a 1-phase
    connector it draws on one phase whatever it could do."""

    max_current_a: float
    phases: int
    capacity_wh: float
    soc_pct: float

    def vehicle(self, speed: float = 1.0) -> SimulatedEV:
        """The EV for a charger; its battery fills `speed` times faster than it charges."""
        return AcceleratedEV(
            max_current_a=self.max_current_a,
            charger_phases=(1, 2, 3) if self.phases == 3 else (1,),
            capacity_wh=self.capacity_wh,
            soc_pct=self.soc_pct,
            speed=speed,
        )


@dataclass
class AcceleratedEV(SimulatedEV):
    """An EV whose battery counts every Wh `speed` times.

    The chargers and the controller keep real time (charging profiles carry absolute
    times and validity), so the demo speeds up the world around them instead: the
    building's day, the fleet's comings and goings, and how fast batteries fill.
    """

    speed: float = 1.0

    def charge(self, energy_wh: float) -> None:
        super().charge(energy_wh * self.speed)


@dataclass(frozen=True)
class Arrival:
    at: datetime
    slot: Slot
    ev: EvSpec
    id_tag: str
    departure: datetime


@dataclass(frozen=True)
class Departure:
    at: datetime
    slot: Slot


FleetEvent = Arrival | Departure


@dataclass(frozen=True)
class FleetSettings:
    """The shape of the fleet. Durations in simulated seconds."""

    initial_occupancy: float = 0.8
    """Share of connectors that get an EV at the start."""
    first_arrivals_within_s: float = 300.0
    mean_gap_s: float = 1800.0
    """Mean free time of a connector between two EVs."""
    dwell_s: tuple[float, float] = (1800.0, 3.0 * 3600.0)
    one_phase_share: float = 0.25
    """Share of EVs with a 1-phase on-board charger."""
    ev_max_current_a: tuple[float, ...] = (16.0, 16.0, 32.0)
    """Drawn from uniformly; repeats weigh a value."""
    capacity_wh: tuple[float, float] = (40_000.0, 100_000.0)
    soc_pct: tuple[float, float] = (10.0, 90.0)
    """State of charge on arrival; EVs taper above 80 %, so some taper at once."""


class Fleet:
    """The arrival and departure plan of every slot from `start` on."""

    def __init__(
        self,
        slots: Iterable[Slot],
        start: datetime,
        seed: int = 1,
        settings: FleetSettings | None = None,
    ) -> None:
        self._settings = settings or FleetSettings()
        self._random = {s: random.Random(f"{seed}:{s.key}") for s in slots}
        self._parked: dict[Slot, Arrival] = {}
        self._next: dict[Slot, datetime] = {}
        self._visits = dict.fromkeys(self._random, 0)
        for slot, rng in self._random.items():
            if rng.random() < self._settings.initial_occupancy:
                delay_s = rng.uniform(0.0, self._settings.first_arrivals_within_s)
            else:
                delay_s = rng.expovariate(1.0 / self._settings.mean_gap_s)
            self._next[slot] = start + timedelta(seconds=delay_s)

    def due(self, now: datetime) -> list[FleetEvent]:
        """Every arrival and departure up to `now` not returned before, in time order."""
        events: list[FleetEvent] = []
        for slot in self._random:
            while self._next[slot] <= now:
                events.append(self._advance(slot))
        return sorted(events, key=lambda e: e.at)

    def _advance(self, slot: Slot) -> FleetEvent:
        rng = self._random[slot]
        at = self._next[slot]
        parked = self._parked.pop(slot, None)
        if parked is not None:
            gap_s = rng.expovariate(1.0 / self._settings.mean_gap_s)
            self._next[slot] = at + timedelta(seconds=gap_s)
            return Departure(at, slot)
        arrival = Arrival(
            at=at,
            slot=slot,
            ev=self._draw_ev(rng),
            id_tag=f"EV-{slot.charger_id}-{self._visits[slot] + 1}",
            departure=at + timedelta(seconds=rng.uniform(*self._settings.dwell_s)),
        )
        self._visits[slot] += 1
        self._parked[slot] = arrival
        self._next[slot] = arrival.departure
        return arrival

    def _draw_ev(self, rng: random.Random) -> EvSpec:
        settings = self._settings
        return EvSpec(
            max_current_a=rng.choice(settings.ev_max_current_a),
            phases=1 if rng.random() < settings.one_phase_share else 3,
            capacity_wh=round(rng.uniform(*settings.capacity_wh), -3),
            soc_pct=round(rng.uniform(*settings.soc_pct), 1),
        )
