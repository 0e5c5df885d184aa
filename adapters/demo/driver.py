"""Carries out the fleet's plan on the simulated chargers: plug in, charge, unplug."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from adapters.demo.fleet import Arrival, Departure, Fleet, FleetEvent, Slot
from adapters.ocpp.sim import Clock, SimulatedCharger

log = logging.getLogger(__name__)

POLL_S = 0.2
"""Real seconds between looks at the plan."""


class FleetDriver:
    """Plugs the fleet's EVs into `chargers` (by charger id) as the accelerated `clock`
    reaches their times; their batteries fill `speed` times faster than real."""

    def __init__(
        self,
        fleet: Fleet,
        chargers: Mapping[str, SimulatedCharger],
        clock: Clock,
        speed: float,
    ) -> None:
        self._fleet = fleet
        self._chargers = chargers
        self._clock = clock
        self._speed = speed

    async def run(self) -> None:
        """Until cancelled. A charger that fails an action is logged and left as it is."""
        while True:
            by_slot: dict[Slot, list[FleetEvent]] = {}
            for event in self._fleet.due(self._clock()):
                by_slot.setdefault(event.slot, []).append(event)
            await asyncio.gather(*(self._apply_in_order(events) for events in by_slot.values()))
            await asyncio.sleep(POLL_S)

    async def _apply_in_order(self, events: list[FleetEvent]) -> None:
        for event in events:
            await self._apply(event)

    async def _apply(self, event: FleetEvent) -> None:
        charger = self._chargers[event.slot.charger_id]
        try:
            match event:
                case Arrival():
                    ev = event.ev
                    log.info(
                        "%s: EV %s arrives (%g A, %d-phase, %.0f kWh at %.0f %%)",
                        event.slot.key,
                        event.id_tag,
                        ev.max_current_a,
                        ev.phases,
                        ev.capacity_wh / 1000,
                        ev.soc_pct,
                    )
                    await charger.plug_in(
                        event.slot.connector_id, ev.vehicle(self._speed), event.id_tag
                    )
                case Departure():
                    log.info("%s: EV leaves", event.slot.key)
                    await charger.unplug(event.slot.connector_id)
        except Exception as error:  # one charger's failure must not stop the fleet
            log.warning("%s: %s failed: %r", event.slot.key, type(event).__name__, error)
