"""Small charge points for the tests, built on the `ocpp` package (client side)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16Base
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201Base
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.client import ClientConnection, connect

from adapters.ocpp import CentralSystem, OcppSettings
from adapters.storage import TokenRecord
from ems.events import Event


class Events:
    """The domain events the central system emitted, awaitable."""

    def __init__(self) -> None:
        self.items: list[Event] = []
        self._changed = asyncio.Event()

    def __call__(self, event: Event) -> None:
        self.items.append(event)
        self._changed.set()

    async def wait_for(
        self, kind: type, predicate: Callable[[Any], bool] = lambda e: True, within_s: float = 5.0
    ) -> Any:
        async with asyncio.timeout(within_s):
            while True:
                for event in self.items:
                    if isinstance(event, kind) and predicate(event):
                        return event
                self._changed.clear()
                await self._changed.wait()

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.items if isinstance(e, kind)]


def make_settings(**overrides: Any) -> OcppSettings:
    base: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "known_chargers": ("CP1", "CP2", "CS1", "CS2"),
        "id_tokens": (TokenRecord("TAG1"),),
        "call_timeout_s": 3.0,
        "operator_poll_s": 0.05,
    }
    base.update(overrides)
    return OcppSettings(**base)


class Inbox:
    """What the central system asked the station, awaitable by action."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._changed = asyncio.Event()

    def add(self, action: str, payload: dict[str, Any]) -> None:
        self.calls.append((action, payload))
        self._changed.set()

    async def wait_for(self, action: str, within_s: float = 5.0) -> dict[str, Any]:
        async with asyncio.timeout(within_s):
            while True:
                for name, payload in self.calls:
                    if name == action:
                        return payload
                self._changed.clear()
                await self._changed.wait()

    def actions(self) -> list[str]:
        return [name for name, _ in self.calls]


class Station16(ChargePoint16Base):
    """A 1.6 charge point that accepts what it is asked."""

    def __init__(self, charger_id: str, ws: ClientConnection) -> None:
        super().__init__(charger_id, ws, response_timeout=5)
        self.inbox = Inbox()
        self.configuration = {
            "ChargeProfileMaxStackLevel": "3",
            "ChargingScheduleAllowedChargingRateUnit": "Current",
            "ChargingScheduleMaxPeriods": "5",
            "SupportedFeatureProfiles": "Core,SmartCharging,RemoteTrigger",
        }

    @on(Action16.get_configuration)
    def t16_get_configuration(self, **kwargs: Any) -> Any:
        self.inbox.add("GetConfiguration", kwargs)
        keys = kwargs.get("key") or list(self.configuration)
        return result16.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": True, "value": self.configuration[k]}
                for k in keys
                if k in self.configuration
            ],
            unknown_key=[k for k in keys if k not in self.configuration] or None,
        )

    @on(Action16.remote_start_transaction)
    def t16_remote_start(self, **kwargs: Any) -> Any:
        self.inbox.add("RemoteStartTransaction", kwargs)
        return result16.RemoteStartTransaction(status="Accepted")

    @on(Action16.remote_stop_transaction)
    def t16_remote_stop(self, **kwargs: Any) -> Any:
        self.inbox.add("RemoteStopTransaction", kwargs)
        return result16.RemoteStopTransaction(status="Accepted")

    @on(Action16.set_charging_profile)
    def t16_set_charging_profile(self, **kwargs: Any) -> Any:
        self.inbox.add("SetChargingProfile", kwargs)
        return result16.SetChargingProfile(status="Accepted")

    @on(Action16.clear_charging_profile)
    def t16_clear_charging_profile(self, **kwargs: Any) -> Any:
        self.inbox.add("ClearChargingProfile", kwargs)
        return result16.ClearChargingProfile(status="Accepted")

    @on(Action16.get_composite_schedule)
    def t16_get_composite_schedule(self, **kwargs: Any) -> Any:
        self.inbox.add("GetCompositeSchedule", kwargs)
        return result16.GetCompositeSchedule(
            status="Accepted",
            connector_id=kwargs["connector_id"],
            schedule_start="2024-05-01T12:00:00Z",
            charging_schedule={
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            },
        )

    @on(Action16.change_availability)
    def t16_change_availability(self, **kwargs: Any) -> Any:
        self.inbox.add("ChangeAvailability", kwargs)
        return result16.ChangeAvailability(status="Accepted")

    @on(Action16.reset)
    def t16_reset(self, **kwargs: Any) -> Any:
        self.inbox.add("Reset", kwargs)
        return result16.Reset(status="Accepted")

    @on(Action16.unlock_connector)
    def t16_unlock_connector(self, **kwargs: Any) -> Any:
        self.inbox.add("UnlockConnector", kwargs)
        return result16.UnlockConnector(status="Unlocked")

    @on(Action16.trigger_message)
    def t16_trigger_message(self, **kwargs: Any) -> Any:
        self.inbox.add("TriggerMessage", kwargs)
        return result16.TriggerMessage(status="Accepted")


class Station201(ChargePoint201Base):
    """A 2.0.1 charging station that accepts what it is asked."""

    def __init__(self, charger_id: str, ws: ClientConnection) -> None:
        super().__init__(charger_id, ws, response_timeout=5)
        self.inbox = Inbox()
        self.variables = {
            ("SmartChargingCtrlr", "Enabled"): "true",
            ("SmartChargingCtrlr", "ProfileStackLevel"): "2",
            ("SmartChargingCtrlr", "RateUnit"): "A,W",
            ("SmartChargingCtrlr", "PeriodsPerSchedule"): "8",
        }

    @on(Action201.get_variables)
    def t201_get_variables(self, get_variable_data: list[dict[str, Any]], **kwargs: Any) -> Any:
        self.inbox.add("GetVariables", {"get_variable_data": get_variable_data})
        results = []
        for item in get_variable_data:
            key = (item["component"]["name"], item["variable"]["name"])
            value = self.variables.get(key)
            entry = {
                "attributeStatus": "Accepted" if value is not None else "UnknownVariable",
                "component": {"name": key[0]},
                "variable": {"name": key[1]},
            }
            if value is not None:
                entry["attributeValue"] = value
            results.append(entry)
        return result201.GetVariables(get_variable_result=results)

    @on(Action201.request_start_transaction)
    def t201_request_start(self, **kwargs: Any) -> Any:
        self.inbox.add("RequestStartTransaction", kwargs)
        return result201.RequestStartTransaction(status="Accepted")

    @on(Action201.request_stop_transaction)
    def t201_request_stop(self, **kwargs: Any) -> Any:
        self.inbox.add("RequestStopTransaction", kwargs)
        return result201.RequestStopTransaction(status="Accepted")

    @on(Action201.set_charging_profile)
    def t201_set_charging_profile(self, **kwargs: Any) -> Any:
        self.inbox.add("SetChargingProfile", kwargs)
        return result201.SetChargingProfile(status="Accepted")

    @on(Action201.clear_charging_profile)
    def t201_clear_charging_profile(self, **kwargs: Any) -> Any:
        self.inbox.add("ClearChargingProfile", kwargs)
        return result201.ClearChargingProfile(status="Accepted")

    @on(Action201.get_composite_schedule)
    def t201_get_composite_schedule(self, **kwargs: Any) -> Any:
        self.inbox.add("GetCompositeSchedule", kwargs)
        return result201.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evseId": kwargs["evse_id"],
                "duration": kwargs["duration"],
                "scheduleStart": "2024-05-01T12:00:00Z",
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            },
        )

    @on(Action201.change_availability)
    def t201_change_availability(self, **kwargs: Any) -> Any:
        self.inbox.add("ChangeAvailability", kwargs)
        return result201.ChangeAvailability(status="Accepted")

    @on(Action201.reset)
    def t201_reset(self, **kwargs: Any) -> Any:
        self.inbox.add("Reset", kwargs)
        return result201.Reset(status="Accepted")


def url(system: CentralSystem, charger_id: str, scheme: str = "ws") -> str:
    return f"{scheme}://127.0.0.1:{system.port}/ocpp/{charger_id}"


@asynccontextmanager
async def running(
    system: CentralSystem,
    charger_id: str,
    station: Callable[[str, ClientConnection], Any],
    subprotocol: str,
    scheme: str = "ws",
    **connect_args: Any,
) -> AsyncIterator[Any]:
    """A connected station serving the central system's calls until the block ends."""
    async with connect(
        url(system, charger_id, scheme),
        subprotocols=[subprotocol],
        open_timeout=5,
        **connect_args,
    ) as ws:
        cp = station(charger_id, ws)
        task = asyncio.get_running_loop().create_task(cp.start())
        try:
            yield cp
        finally:
            task.cancel()


def station16(system: CentralSystem, charger_id: str = "CP1", **kw: Any) -> Any:
    return running(system, charger_id, Station16, "ocpp1.6", **kw)


def station201(system: CentralSystem, charger_id: str = "CS1", **kw: Any) -> Any:
    return running(system, charger_id, Station201, "ocpp2.0.1", **kw)


class RawClient:
    """A bare WebSocket client for frames the `ocpp` package would never send."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, frame: str) -> None:
        await self.ws.send(frame)

    async def receive(self, within_s: float = 5.0) -> list[Any]:
        async with asyncio.timeout(within_s):
            return list(json.loads(await self.ws.recv()))

    async def exchange(self, frame: str) -> list[Any]:
        await self.send(frame)
        return await self.receive()

    async def call(self, message_id: str, action: str, payload: dict[str, Any]) -> list[Any]:
        return await self.exchange(json.dumps([2, message_id, action, payload]))


@asynccontextmanager
async def raw_client(
    system: CentralSystem, charger_id: str, subprotocol: str, **connect_args: Any
) -> AsyncIterator[RawClient]:
    async with connect(
        url(system, charger_id), subprotocols=[subprotocol], open_timeout=5, **connect_args
    ) as ws:
        yield RawClient(ws)
