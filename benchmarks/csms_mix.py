"""The message mix of real chargers, for `benchmarks.csms`: lightweight raw-WebSocket OCPP
1.6 chargers with two connectors each, on which EVs arrive, authorize, start, send
MeterValues (five measurands, the EV drawing what its last profile allows) at a set
cadence, stop and leave, with the status changes in between. One call in flight per
charger; the server's calls are answered (profiles Accepted, the capability probe with the
usual keys, anything else NotImplemented).

Recorded: the latency of every call by action, from the frame being sent to its answer,
and for every transaction the time from sending StartTransaction to receiving the first
TxProfile for its connector.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

SUBPROTOCOL = "ocpp1.6"
CALL_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 60.0
CONNECTORS = 2
EV_CURRENT_A = 16.0
"""What every EV draws per phase (three phases), when its limit lets it."""
VOLTAGE_V = 230.0
_CONFIGURATION = {
    "ChargeProfileMaxStackLevel": "8",
    "ChargingScheduleAllowedChargingRateUnit": "Current,Power",
    "ChargingScheduleMaxPeriods": "24",
    "SupportedFeatureProfiles": "Core,SmartCharging",
}
_ids = itertools.count()


@dataclass(frozen=True)
class Mix:
    """How the EVs come and go (seconds)."""

    meter_interval_s: float = 10.0
    stay_s: tuple[float, float] = (30.0, 120.0)
    gap_s: tuple[float, float] = (5.0, 30.0)


@dataclass
class Stats:
    latencies_s: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    tx_profile_delays_s: list[float] = field(default_factory=list)
    timeouts: int = 0
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _meter_values(
    connector_id: int, transaction_id: int, energy_wh: float, current_a: float
) -> dict[str, Any]:
    sampled: list[dict[str, Any]] = [
        {"value": f"{current_a:.1f}", "measurand": "Current.Import", "phase": p, "unit": "A"}
        for p in ("L1", "L2", "L3")
    ]
    sampled += [
        {
            "value": f"{current_a * 3 * VOLTAGE_V:.0f}",
            "measurand": "Power.Active.Import",
            "unit": "W",
        },
        {"value": f"{energy_wh:.0f}", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
    ]
    return {
        "connectorId": connector_id,
        "transactionId": transaction_id,
        "meterValue": [{"timestamp": _now(), "sampledValue": sampled}],
    }


class MixCharger:
    def __init__(self, charger_id: str, url: str, mix: Mix, stats: Stats, seed: int) -> None:
        self.charger_id = charger_id
        self.url = f"{url}/{charger_id}"
        self._mix = mix
        self._stats = stats
        self._rng = random.Random(seed)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._one_call = asyncio.Lock()
        self._pending: dict[str, asyncio.Future[list[Any]]] = {}
        self._started_at: dict[int, float] = {}
        """Connector → when its StartTransaction was sent, until its first TxProfile."""
        self._limit_a: dict[int, float] = {}
        """Connector → the limit of the last profile it got (its EV follows it)."""

    async def boot(self) -> bool:
        self._ws = await connect(
            self.url,
            subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
            compression=None,
            ping_interval=None,
            open_timeout=CONNECT_TIMEOUT_S,
        )
        self._reader = asyncio.get_running_loop().create_task(self._read())
        boot = {"chargePointVendor": "Bench", "chargePointModel": "Mix"}
        answer = await self.call("BootNotification", boot)
        if answer is not None and answer.get("status", "Accepted") != "Accepted":
            return False
        for connector_id in range(CONNECTORS + 1):
            await self._status(connector_id, "Available")
        return True

    async def run(self, until: float) -> None:
        await asyncio.gather(*(self._ev_after_ev(c, until) for c in range(1, CONNECTORS + 1)))

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The answer's payload; None for a CALLERROR, a timeout or an echo."""
        assert self._ws is not None
        async with self._one_call:
            message_id = str(next(_ids))
            answered = asyncio.get_running_loop().create_future()
            self._pending[message_id] = answered
            begin = time.perf_counter()
            await self._ws.send(json.dumps([2, message_id, action, payload]))
            try:
                frame = await asyncio.wait_for(answered, CALL_TIMEOUT_S)
            except TimeoutError:
                self._stats.timeouts += 1
                return None
            finally:
                self._pending.pop(message_id, None)
            self._stats.latencies_s[action].append(time.perf_counter() - begin)
        if frame[0] == 4:
            self._stats.errors[f"{action}: {frame[2]}"] += 1
            return None
        return frame[2] if frame[0] == 3 and isinstance(frame[2], dict) else None

    async def _read(self) -> None:
        assert self._ws is not None
        async for raw in self._ws:
            frame = json.loads(raw)
            answered = self._pending.get(frame[1])
            if answered is not None and not answered.done():  # an echo comes back as a CALL
                answered.set_result(frame)
            elif frame[0] == 2:
                await self._ws.send(json.dumps(self._answer(frame[1], frame[2], frame[3])))

    def _answer(self, message_id: str, action: str, payload: dict[str, Any]) -> list[Any]:
        if action == "SetChargingProfile":
            profile = payload.get("csChargingProfiles", {})
            connector_id = payload.get("connectorId")
            if profile.get("chargingProfilePurpose") == "TxProfile":
                started = self._started_at.pop(connector_id, None)
                if started is not None:
                    self._stats.tx_profile_delays_s.append(time.perf_counter() - started)
            schedule = profile.get("chargingSchedule", {})
            periods = schedule.get("chargingSchedulePeriod") or [{"limit": EV_CURRENT_A}]
            limit = float(periods[0]["limit"])
            if schedule.get("chargingRateUnit") == "W":
                limit /= 3 * VOLTAGE_V
            if connector_id:
                self._limit_a[connector_id] = limit
            return [3, message_id, {"status": "Accepted"}]
        if action == "ClearChargingProfile":
            return [3, message_id, {"status": "Accepted"}]
        if action == "GetConfiguration":
            keys = payload.get("key") or list(_CONFIGURATION)
            known = [
                {"key": k, "readonly": True, "value": _CONFIGURATION[k]}
                for k in keys
                if k in _CONFIGURATION
            ]
            unknown = [k for k in keys if k not in _CONFIGURATION]
            return [
                3,
                message_id,
                {"configurationKey": known, **({"unknownKey": unknown} if unknown else {})},
            ]
        return [4, message_id, "NotImplemented", f"{action} is not simulated", {}]

    async def _status(self, connector_id: int, status: str) -> None:
        await self.call(
            "StatusNotification",
            {
                "connectorId": connector_id,
                "errorCode": "NoError",
                "status": status,
                "timestamp": _now(),
            },
        )

    async def _ev_after_ev(self, connector_id: int, until: float) -> None:
        energy_wh = 0.0
        while True:
            gap_s = self._rng.uniform(*self._mix.gap_s)
            await asyncio.sleep(min(gap_s, max(until - time.monotonic(), 0.0)))
            if time.monotonic() >= until:
                return
            energy_wh = await self._session(connector_id, until, energy_wh)

    async def _session(self, connector_id: int, until: float, energy_wh: float) -> float:
        id_tag = f"EV{self._rng.randrange(16**8):08X}"
        await self._status(connector_id, "Preparing")
        await self.call("Authorize", {"idTag": id_tag})
        start = {
            "connectorId": connector_id,
            "idTag": id_tag,
            "meterStart": int(energy_wh),
            "timestamp": _now(),
        }
        self._started_at[connector_id] = time.perf_counter()
        answer = await self.call("StartTransaction", start)
        transaction_id = int((answer or {}).get("transactionId", 0))
        await self._status(connector_id, "Charging")
        leave_at = min(time.monotonic() + self._rng.uniform(*self._mix.stay_s), until)
        while time.monotonic() + self._mix.meter_interval_s < leave_at:
            await asyncio.sleep(self._mix.meter_interval_s)
            current_a = min(EV_CURRENT_A, self._limit_a.get(connector_id, EV_CURRENT_A))
            current_a = current_a if current_a >= 6 else 0.0  # IEC 61851: 6 A or nothing
            energy_wh += current_a * 3 * VOLTAGE_V * self._mix.meter_interval_s / 3600
            values = _meter_values(connector_id, transaction_id, energy_wh, current_a)
            await self.call("MeterValues", values)
        self._started_at.pop(connector_id, None)
        stop = {
            "transactionId": transaction_id,
            "meterStop": int(energy_wh),
            "timestamp": _now(),
            "reason": "EVDisconnected",
        }
        await self.call("StopTransaction", stop)
        await self._status(connector_id, "Finishing")
        await self._status(connector_id, "Available")
        return energy_wh
