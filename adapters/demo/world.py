"""Everything around the controller in the demo: the site meter, the chargers, the EVs.

The building's day and the fleet run on an accelerated clock; the chargers keep real
time, because the profiles the controller sends them carry absolute start times and
validity (see `AcceleratedEV` for how their batteries keep up).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, time, timedelta

from adapters.clock import utc_now
from adapters.demo.driver import FleetDriver
from adapters.demo.fleet import Fleet, Slot
from adapters.demo.site import DemoCharger
from adapters.demo.site_load import OFFICE_MORNING_S, SiteLoad
from adapters.modbus.profile import PACKAGED_PROFILE, Phases, load_profile
from adapters.modbus.register_map import load_map
from adapters.modbus.simulator import MeterSimulator
from adapters.ocpp.sim import ScaledClock, SimChargerConfig, SimulatedCharger

log = logging.getLogger(__name__)

METER_MAP = "sdm630"
CHARGER_METER_INTERVAL_S = 2.0
"""Real seconds between a charger's meter reports during a session."""
CHARGERS_BOOT_TIMEOUT_S = 20.0


class DemoWorld:
    """The simulated site meter, chargers and fleet, on 127.0.0.1."""

    def __init__(self, chargers: tuple[DemoCharger, ...], speed: float, seed: int) -> None:
        self.layout = chargers
        self.speed = speed
        midnight = datetime.combine(utc_now().date(), time(), tzinfo=UTC)
        self.clock = ScaledClock(speed, start=midnight + timedelta(seconds=OFFICE_MORNING_S))
        """The accelerated site time: the office day from 07:00, the fleet's plan."""
        self.meter = MeterSimulator(
            load_map(METER_MAP),
            SiteLoad.of(load_profile(PACKAGED_PROFILE), self.chargers_draw_a, OFFICE_MORNING_S),
            host="127.0.0.1",
            port=0,
            speed=speed,
        )
        slots = [Slot(c.charger_id, 1, c.number_phases) for c in chargers]
        self.fleet = Fleet(slots, self.clock(), seed=seed)
        self.chargers: dict[str, SimulatedCharger] = {}
        self._driver: asyncio.Task[None] | None = None

    async def start_meter(self) -> int:
        """Start the site meter; returns its Modbus TCP port."""
        await self.meter.start()
        return self.meter.port

    async def start_chargers(self, ocpp_url: str) -> None:
        """Connect every charger to the central system at `ocpp_url`, then let EVs come."""
        for spec in self.layout:
            config = SimChargerConfig(
                charger_id=spec.charger_id,
                protocol=spec.protocol,
                max_current_a=spec.max_current_a,
                number_phases=spec.number_phases,
                meter_interval_s=CHARGER_METER_INTERVAL_S,
                vendor="Demo",
                model=f"{spec.number_phases}-phase {spec.max_current_a:g} A",
            )
            self.chargers[spec.charger_id] = SimulatedCharger(config, ocpp_url)
        await asyncio.gather(*(c.start(CHARGERS_BOOT_TIMEOUT_S) for c in self.chargers.values()))
        driver = FleetDriver(self.fleet, self.chargers, self.clock, self.speed)
        self._driver = asyncio.create_task(driver.run(), name="demo-fleet")

    async def stop_chargers(self) -> None:
        """Stop the fleet and disconnect every charger (EVs stay plugged in)."""
        if self._driver is not None:
            self._driver.cancel()
            await asyncio.gather(self._driver, return_exceptions=True)
        await asyncio.gather(*(c.stop() for c in self.chargers.values()))

    async def stop_meter(self) -> None:
        await self.meter.stop()

    def chargers_draw_a(self) -> Phases:
        """What all chargers draw now, per site phase (a rotated charger's L1 is not
        the site's L1)."""
        total = [0.0, 0.0, 0.0]
        for spec in self.layout:
            charger = self.chargers.get(spec.charger_id)
            if charger is None:
                continue
            for site_phase, draw in zip(spec.site_phases, charger.draw_a(1), strict=False):
                total[site_phase - 1] += draw
        return (total[0], total[1], total[2])
