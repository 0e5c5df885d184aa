"""The base of the simulated charger's per-version links (`v16`, `v201`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

from ocpp.charge_point import ChargePoint
from websockets.asyncio.client import ClientConnection

if TYPE_CHECKING:
    from adapters.ocpp.sim.charger import SimChargerConfig, SimulatedCharger


class SimChargePoint(ChargePoint, ABC):  # type: ignore[misc]
    """What the versions send alike; each names its `call` module and its boot payload."""

    calls: ClassVar[ModuleType]
    """`ocpp.v16.call` or `ocpp.v201.call`."""

    def __init__(self, sim: SimulatedCharger, ws: ClientConnection) -> None:
        super().__init__(sim.config.charger_id, ws, response_timeout=30)
        self.sim = sim

    @abstractmethod
    def boot_notification(self, config: SimChargerConfig) -> Any:
        """This version's BootNotification request for the charger `config` describes."""

    async def boot(self) -> tuple[str, int]:
        result = await self.call(self.boot_notification(self.sim.config), suppress=False)
        return str(result.status), int(result.interval)

    async def heartbeat(self) -> datetime:
        result = await self.call(self.calls.Heartbeat(), suppress=False)
        return datetime.fromisoformat(result.current_time)
