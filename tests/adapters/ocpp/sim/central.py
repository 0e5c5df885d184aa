"""A minimal central system for the simulator's tests: a bare `ocpp` ChargePoint per
connection that accepts everything and records what it received."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ocpp import v16, v201
from ocpp.routing import on
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

PROTOCOLS = ["ocpp1.6", "ocpp2.0.1"]


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Received:
    charger_id: str
    action: str
    payload: dict[str, Any]


@dataclass
class Central:
    received: list[Received] = field(default_factory=list)
    stations: dict[str, Any] = field(default_factory=dict)
    _tx_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def record(self, charger_id: str, action: str, payload: dict[str, Any]) -> None:
        self.received.append(Received(charger_id, action, payload))

    def of(self, action: str) -> list[dict[str, Any]]:
        return [r.payload for r in self.received if r.action == action]

    async def handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        charger_id = ws.request.path.rstrip("/").rsplit("/", 1)[-1]
        cls = Station16 if ws.subprotocol == "ocpp1.6" else Station201
        station = cls(charger_id, ws, self)
        self.stations[charger_id] = station
        with suppress(ConnectionClosed):
            await station.start()


class Station16(v16.ChargePoint):  # type: ignore[misc]
    def __init__(self, charger_id: str, ws: ServerConnection, central: Central) -> None:
        super().__init__(charger_id, ws)
        self.central = central

    @on("BootNotification")
    def boot(self, **kw: Any) -> v16.call_result.BootNotification:
        self.central.record(self.id, "BootNotification", kw)
        return v16.call_result.BootNotification(
            current_time=_now(), interval=300, status="Accepted"
        )

    @on("Heartbeat")
    def heartbeat(self, **kw: Any) -> v16.call_result.Heartbeat:
        self.central.record(self.id, "Heartbeat", kw)
        return v16.call_result.Heartbeat(current_time=_now())

    @on("StatusNotification")
    def status(self, **kw: Any) -> v16.call_result.StatusNotification:
        self.central.record(self.id, "StatusNotification", kw)
        return v16.call_result.StatusNotification()

    @on("Authorize")
    def authorize(self, **kw: Any) -> v16.call_result.Authorize:
        self.central.record(self.id, "Authorize", kw)
        return v16.call_result.Authorize(id_tag_info={"status": "Accepted"})

    @on("StartTransaction")
    def start_tx(self, **kw: Any) -> v16.call_result.StartTransaction:
        self.central.record(self.id, "StartTransaction", kw)
        return v16.call_result.StartTransaction(
            transaction_id=next(self.central._tx_ids), id_tag_info={"status": "Accepted"}
        )

    @on("StopTransaction")
    def stop_tx(self, **kw: Any) -> v16.call_result.StopTransaction:
        self.central.record(self.id, "StopTransaction", kw)
        return v16.call_result.StopTransaction()

    @on("MeterValues")
    def meter_values(self, **kw: Any) -> v16.call_result.MeterValues:
        self.central.record(self.id, "MeterValues", kw)
        return v16.call_result.MeterValues()


class Station201(v201.ChargePoint):  # type: ignore[misc]
    def __init__(self, charger_id: str, ws: ServerConnection, central: Central) -> None:
        super().__init__(charger_id, ws)
        self.central = central

    @on("BootNotification")
    def boot(self, **kw: Any) -> v201.call_result.BootNotification:
        self.central.record(self.id, "BootNotification", kw)
        return v201.call_result.BootNotification(
            current_time=_now(), interval=300, status="Accepted"
        )

    @on("Heartbeat")
    def heartbeat(self, **kw: Any) -> v201.call_result.Heartbeat:
        self.central.record(self.id, "Heartbeat", kw)
        return v201.call_result.Heartbeat(current_time=_now())

    @on("StatusNotification")
    def status(self, **kw: Any) -> v201.call_result.StatusNotification:
        self.central.record(self.id, "StatusNotification", kw)
        return v201.call_result.StatusNotification()

    @on("Authorize")
    def authorize(self, **kw: Any) -> v201.call_result.Authorize:
        self.central.record(self.id, "Authorize", kw)
        return v201.call_result.Authorize(id_token_info={"status": "Accepted"})

    @on("TransactionEvent")
    def transaction_event(self, **kw: Any) -> v201.call_result.TransactionEvent:
        self.central.record(self.id, "TransactionEvent", kw)
        return v201.call_result.TransactionEvent()


@asynccontextmanager
async def running_central() -> AsyncIterator[tuple[Central, str]]:
    """A central system on 127.0.0.1, port chosen by the OS; yields it and its base URL."""
    central = Central()
    async with serve(central.handle, "127.0.0.1", 0, subprotocols=PROTOCOLS) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield central, f"ws://127.0.0.1:{port}/ocpp"


async def wait_until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll `predicate` until true; fails after `timeout_s`."""
    step_s = 0.01
    for _ in range(int(timeout_s / step_s)):
        if predicate():
            return
        await asyncio.sleep(step_s)
    raise TimeoutError(f"condition not met within {timeout_s} s")
