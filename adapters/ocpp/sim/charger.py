"""A simulated charge point: connects to a central system, runs sessions for plugged-in EVs
and enforces the charging profiles it receives like a real charger would.

The protocol-specific frames live in `v16.py` and `v201.py`; this module holds the state,
the physics (what each EV draws under the limits in force) and the connection loop.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection, connect

from adapters.cancellation import raise_if_cancelled
from adapters.ocpp.profiles import floor_tenth
from adapters.ocpp.sim.clock import Clock, ScaledClock
from adapters.ocpp.sim.ev import SimulatedEV
from adapters.ocpp.sim.smart import InstalledProfile, Limit, ProfileStore, Transaction
from ems.commands import ProfilePurpose

log = logging.getLogger(__name__)

OCPP16 = "ocpp1.6"
OCPP201 = "ocpp2.0.1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CONNECT_TIMEOUT_S = 10.0
_CLOSE_TIMEOUT_S = 2.0
_MAX_BOOT_RETRY_S = 10.0
_SAMPLED = ("Current.Import", "Power.Active.Import", "Energy.Active.Import.Register", "SoC")


@dataclass(frozen=True)
class ChargerBehaviour:
    """Knobs that make a simulated charger behave like particular real ones."""

    rate_units: tuple[str, ...] = ("A", "W")
    """Units accepted in a schedule; ("W",) for chargers that take only power."""
    max_stack_level: int = 8
    max_periods: int = 24
    reject_profiles: bool = False
    """Answer every SetChargingProfile with Rejected."""
    ignore_profiles: bool = False
    """Accept profiles but never enforce them (a non-compliant charger)."""
    clock_unset: bool = False
    """Stamp messages from 1970 until the first Heartbeat answer sets the clock."""
    reaction_s: float = 0.0
    """Seconds an EV takes to follow a lower limit (IEC 61851-1 allows up to 5 s, and the
    charger adds its own delay): it keeps drawing up to the highest limit in force over the
    last `reaction_s` seconds. A higher limit it takes at once (the worst case for a fuse)."""
    reconnect_delay_s: float = 1.0
    """Real seconds between losing the connection (or failing to connect) and the next
    attempt: a charger reconnecting late after a central-system restart. The profiles it
    holds stay in force meanwhile."""


@dataclass(frozen=True)
class SimChargerConfig:
    charger_id: str
    protocol: str = OCPP16
    connectors: int = 1
    max_current_a: float = 32.0
    """Hardware maximum per phase of each connector."""
    number_phases: int = 3
    """Phases each connector is wired with (1 or 3)."""
    voltage_v: float = 230.0
    heartbeat_interval_s: float | None = None
    """Simulated seconds; None uses the interval from the BootNotification answer."""
    meter_interval_s: float = 10.0
    """Simulated seconds between meter reports of a running transaction."""
    password: str | None = None
    """HTTP Basic auth password (security profile 1), user = charger id."""
    vendor: str = "SimVendor"
    model: str = "SimCharger"
    behaviour: ChargerBehaviour = field(default_factory=ChargerBehaviour)


@dataclass
class ConnectorState:
    connector_id: int
    ev: SimulatedEV | None = None
    transaction: Transaction | None = None
    id_tag: str | None = None
    seq_no: int = 0
    energy_wh: float = 0.0
    """The connector's energy register: everything it ever delivered."""
    draw_a: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Per-phase current in the charger's phase order."""
    offered_a: float = 0.0
    available: bool = True
    reported: str | None = None
    """The last status told to the central system."""
    reported_charging: str | None = None
    """The last 2.0.1 charging state told to the central system."""
    offers: list[tuple[datetime, float]] = field(default_factory=list)
    """The limits in force since the EV began following them, as (since, limit) steps: what
    an EV with a reaction time may still be following."""

    @property
    def status(self) -> str:
        """The 1.6 status name (2.0.1 maps it to its connector status and charging state)."""
        if not self.available:
            return "Unavailable"
        if self.ev is None:
            return "Finishing" if self.transaction else "Available"
        if self.transaction is None:
            return "Preparing"
        if any(self.draw_a):
            return "Charging"
        return "SuspendedEVSE" if self.offered_a < self.ev.min_current_a else "SuspendedEV"


@dataclass(frozen=True)
class MeterSnapshot:
    at: datetime
    current_a: tuple[float, float, float]
    power_w: float
    energy_wh: float
    voltage_v: float
    soc_pct: float | None


class Link(Protocol):
    """The protocol-specific side of a charger: the frames it sends."""

    async def start(self) -> None: ...
    async def boot(self) -> tuple[str, int]: ...
    async def heartbeat(self) -> datetime: ...
    async def status(self, connector: ConnectorState) -> None: ...
    async def authorize(self, id_tag: str) -> bool: ...
    async def start_transaction(self, connector: ConnectorState, remote: bool) -> str: ...
    async def stop_transaction(self, connector: ConnectorState, reason: str) -> None: ...
    async def meter_values(self, connector: ConnectorState, snapshot: MeterSnapshot) -> None: ...
    async def charging_state(self, connector: ConnectorState) -> None: ...


class SimulatedCharger:
    """One charge point. `url` is the central system's base, e.g. `ws://127.0.0.1:9000/ocpp`;
    the charger connects to `<url>/<charger_id>`.

    Simulated time comes from `clock`; intervals are simulated seconds and the charger waits
    `interval / speed` real seconds between reports.
    """

    def __init__(
        self,
        config: SimChargerConfig,
        url: str,
        clock: Clock | None = None,
        speed: float = 1.0,
    ) -> None:
        if config.protocol not in (OCPP16, OCPP201):
            raise ValueError(f"unknown protocol {config.protocol!r}")
        self.config = config
        self.url = f"{url.rstrip('/')}/{config.charger_id}"
        self.speed = speed
        self.clock: Clock = clock or ScaledClock(speed)
        self.store = ProfileStore(config.voltage_v)
        self.connectors = {i: ConnectorState(i) for i in range(1, config.connectors + 1)}
        self.booted = asyncio.Event()
        self.heartbeat_interval_s = config.heartbeat_interval_s or 60.0
        self._clock_offset: timedelta | None = None if config.behaviour.clock_unset else timedelta()
        self._powered_on = self.clock()
        self._last_update = self._powered_on
        self._ws: ClientConnection | None = None
        self._link: Link | None = None
        self._runner: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pending_reports: set[int] = set()

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self, timeout_s: float = 10.0) -> None:
        """Connect and boot; returns once the central system accepted the boot."""
        self._runner = asyncio.create_task(self._run(), name=f"sim-{self.config.charger_id}")
        async with asyncio.timeout(timeout_s):
            await self.booted.wait()

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Cancel every loop and close the connection, waiting at most `timeout_s`."""
        tasks = [t for t in (self._runner, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s)
        self._tasks.clear()
        if self._ws is not None:
            self._ws.transport.abort()

    @property
    def connected(self) -> bool:
        return self._ws is not None

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run `coro` beside the receive loop (a handler must never await a call itself)."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s: %r", self.config.charger_id, task.exception())

    async def _run(self) -> None:
        while True:
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("%s: connection ended: %r", self.config.charger_id, exc)
            self._ws = None
            self.booted.clear()
            await asyncio.sleep(self.config.behaviour.reconnect_delay_s)

    async def _session(self) -> None:
        headers = {}
        if self.config.password is not None:
            token = f"{self.config.charger_id}:{self.config.password}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(token).decode()
        async with connect(
            self.url,
            subprotocols=[self.config.protocol],  # type: ignore[list-item]
            additional_headers=headers,
            open_timeout=_CONNECT_TIMEOUT_S,
            close_timeout=_CLOSE_TIMEOUT_S,
            compression=None,
        ) as ws:
            self._ws = ws
            self._link = self._make_link(ws)
            receiver = asyncio.create_task(self._link.start())
            loops: list[asyncio.Task[None]] = []
            try:
                await self._boot()
                loops = [
                    asyncio.create_task(self._heartbeats()),
                    asyncio.create_task(self._meter_loop()),
                ]
                await receiver
            finally:
                for task in (receiver, *loops):
                    task.cancel()
                await asyncio.gather(receiver, *loops, return_exceptions=True)

    def _make_link(self, ws: ClientConnection) -> Link:
        if self.config.protocol == OCPP16:
            from adapters.ocpp.sim.v16 import ChargePoint16

            return ChargePoint16(self, ws)
        from adapters.ocpp.sim.v201 import ChargePoint201

        return ChargePoint201(self, ws)

    async def _boot(self) -> None:
        link = self._require_link()
        while True:
            status, interval = await link.boot()
            raise_if_cancelled()
            if status == "Accepted":
                break
            await asyncio.sleep(min(max(interval, 1) / self.speed, _MAX_BOOT_RETRY_S))
        if self.config.heartbeat_interval_s is None and interval > 0:
            self.heartbeat_interval_s = float(interval)
        self.update()
        for connector in self.connectors.values():
            await self.report_status(connector, force=True)
        self.booted.set()

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval_s / self.speed)
            await self.heartbeat()
            raise_if_cancelled()  # a stop the ocpp library's wait for the answer swallowed

    async def _meter_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.meter_interval_s / self.speed)
            await self.send_meter_values()
            raise_if_cancelled()

    def _require_link(self) -> Link:
        if self._link is None:
            raise ConnectionError(f"{self.config.charger_id} is not connected")
        return self._link

    # --- what the charger sends --------------------------------------------------------

    async def heartbeat(self) -> None:
        server_time = await self._require_link().heartbeat()
        if self._clock_offset is None:
            self._clock_offset = server_time - self.clock()

    async def report_status(self, connector: ConnectorState, force: bool = False) -> None:
        status = connector.status
        if force or status != connector.reported:
            connector.reported = status
            await self._require_link().status(connector)

    async def send_meter_values(self) -> None:
        """Report every running transaction's meter now."""
        self.update()
        for connector in self.connectors.values():
            if connector.transaction is not None:
                await self._require_link().meter_values(connector, self.snapshot(connector))

    async def plug_in(self, connector_id: int, ev: SimulatedEV, id_tag: str = "TAG") -> str | None:
        """Plug `ev` in and start a session authorized by `id_tag`; returns the transaction
        id, or None if the token was refused."""
        connector = self.connectors[connector_id]
        connector.ev = ev
        await self.report_status(connector)
        if not await self._require_link().authorize(id_tag):
            return None
        return await self.start_session(connector_id, id_tag, remote=False)

    async def start_session(self, connector_id: int, id_tag: str, remote: bool) -> str:
        connector = self.connectors[connector_id]
        connector.id_tag = id_tag
        connector.seq_no = 0
        self.update()
        tx_id = await self._require_link().start_transaction(connector, remote)
        connector.transaction = Transaction(tx_id, self.clock())
        self.update()
        await self.report_status(connector)
        return tx_id

    async def unplug(self, connector_id: int) -> None:
        connector = self.connectors[connector_id]
        if connector.transaction is not None:
            await self.end_session(connector_id, "EVDisconnected")
        connector.ev = None
        self.update()
        await self.report_status(connector)

    async def end_session(self, connector_id: int, reason: str) -> None:
        connector = self.connectors[connector_id]
        self.update()
        await self._require_link().stop_transaction(connector, reason)
        connector.transaction = None
        connector.id_tag = None
        self.store.end_transaction(connector_id)
        self.update()
        await self.report_status(connector)

    # --- what the central system asks --------------------------------------------------

    def set_profile(self, target_id: int, profile: InstalledProfile) -> str:
        """Install a received profile, or say why not: the checks a strict charger makes."""
        behaviour = self.config.behaviour
        if behaviour.reject_profiles:
            return "Rejected"
        if target_id != 0 and target_id not in self.connectors:
            return "Rejected"
        if profile.unit not in behaviour.rate_units:
            return "Rejected"
        if profile.stack_level > behaviour.max_stack_level or profile.stack_level < 0:
            return "Rejected"
        if len(profile.periods) > behaviour.max_periods or not profile.periods:
            return "Rejected"
        if profile.periods[0].start_s != 0:
            return "Rejected"
        if profile.purpose is ProfilePurpose.STATION_MAX and (
            target_id != 0 or profile.kind == "Relative"
        ):
            return "Rejected"
        if profile.purpose is ProfilePurpose.TX:
            tx = self.connectors[target_id].transaction if target_id else None
            if tx is None or profile.transaction_id not in (None, tx.transaction_id):
                return "Rejected"
        self.update()
        self.store.install(profile)
        self.update()
        return "Accepted"

    def clear_profiles(
        self,
        profile_id: int | None,
        connector_id: int | None,
        purpose: ProfilePurpose | None,
        stack_level: int | None,
    ) -> bool:
        self.update()
        removed = self.store.clear(profile_id, connector_id, purpose, stack_level)
        self.update()
        return removed > 0

    def composite(self, connector_id: int, duration_s: int) -> list[tuple[int, Limit]]:
        tx = self.connectors[connector_id].transaction if connector_id else None
        return self.store.composite(
            connector_id, self.clock(), duration_s, tx, self.config.max_current_a
        )

    def composite_periods(
        self, connector_id: int, duration_s: int, unit: str
    ) -> list[dict[str, Any]]:
        """The composite schedule as wire periods, limits in `unit` (`A` or `W`)."""
        voltage = self.config.voltage_v
        periods = []
        for start_s, limit in self.composite(connector_id, duration_s):
            phases = limit.number_phases or self.config.number_phases
            value = limit.current_a * voltage * phases if unit == "W" else limit.current_a
            periods.append(
                {"start_period": start_s, "limit": floor_tenth(value), "number_phases": phases}
            )
        return periods

    def free_connector(self, connector_id: int | None) -> int | None:
        """The connector a remote start would use, or None if none is free."""
        candidates = [connector_id] if connector_id else list(self.connectors)
        for c in candidates:
            state = self.connectors.get(c)
            if state is not None and state.transaction is None and state.available:
                return c
        return None

    def find_transaction(self, transaction_id: str) -> int | None:
        for c, state in self.connectors.items():
            if state.transaction and state.transaction.transaction_id == transaction_id:
                return c
        return None

    def set_available(self, connector_id: int, available: bool) -> str:
        """Accepted, or Scheduled when a running transaction must end first."""
        targets = list(self.connectors) if connector_id == 0 else [connector_id]
        if any(self.connectors[c].transaction for c in targets) and not available:
            return "Scheduled"
        for c in targets:
            self.connectors[c].available = available
        self.update()
        return "Accepted"

    async def reset(self) -> None:
        """End every transaction and reboot (reconnect and boot again)."""
        for c, state in self.connectors.items():
            if state.transaction is not None:
                await self.end_session(
                    c, "HardReset" if self.config.protocol == OCPP16 else "ImmediateReset"
                )
        if self._ws is not None:
            await self._ws.close()

    def configuration(self) -> dict[str, str]:
        """The smart-charging configuration keys (1.6 names)."""
        behaviour = self.config.behaviour
        units = {"A": "Current", "W": "Power"}
        return {
            "ChargeProfileMaxStackLevel": str(behaviour.max_stack_level),
            "ChargingScheduleAllowedChargingRateUnit": ",".join(
                units[u] for u in behaviour.rate_units
            ),
            "ChargingScheduleMaxPeriods": str(behaviour.max_periods),
            "MaxChargingProfilesInstalled": str(8 * (self.config.connectors + 1)),
            "SupportedFeatureProfiles": "Core,SmartCharging,RemoteTrigger",
            "HeartbeatInterval": str(int(self.heartbeat_interval_s)),
            "MeterValueSampleInterval": str(int(self.config.meter_interval_s)),
            "NumberOfConnectors": str(self.config.connectors),
            "MeterValuesSampledData": ",".join(_SAMPLED),
        }

    # --- time and physics --------------------------------------------------------------

    def timestamp(self) -> str:
        """The charger's own clock, as it stamps messages."""
        now = self.clock()
        if self._clock_offset is None:
            now = _EPOCH + (now - self._powered_on)
        else:
            now = now + self._clock_offset
        return now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def update(self) -> None:
        """Integrate energy up to the clock's now, then re-evaluate what each EV draws."""
        now = self.clock()
        dt_s = max((now - self._last_update).total_seconds(), 0.0)
        self._last_update = now
        for connector in self.connectors.values():
            energy_wh = sum(connector.draw_a) * self.config.voltage_v * dt_s / 3600.0
            connector.energy_wh += energy_wh
            if connector.ev is not None:
                connector.ev.charge(energy_wh)
        self._allocate(now)
        if self.booted.is_set():
            for c, connector in self.connectors.items():
                if connector.status != connector.reported and c not in self._pending_reports:
                    self._pending_reports.add(c)
                    self.spawn(self._state_changed(connector))

    async def _state_changed(self, connector: ConnectorState) -> None:
        self._pending_reports.discard(connector.connector_id)
        await self.report_status(connector)
        await self._require_link().charging_state(connector)

    def _allocate(self, now: datetime) -> None:
        """What each EV draws: min(limit in force, EV max, taper); 0 below the IEC minimum;
        the station maximum shared per phase in connector order."""
        enforce = not self.config.behaviour.ignore_profiles
        station = self.store.station_limit(now) if enforce else None
        headroom = [station.current_a if station else self.config.max_current_a] * 3
        for c, connector in sorted(self.connectors.items()):
            ev = connector.ev
            if ev is None or connector.transaction is None or not connector.available:
                connector.draw_a, connector.offered_a = (0.0, 0.0, 0.0), 0.0
                connector.offers.clear()
                continue
            own = self.store.connector_limit(c, now, connector.transaction) if enforce else None
            offered = min(self.config.max_current_a, own.current_a if own else float("inf"))
            phases = tuple(p for p in ev.charger_phases if p <= self.config.number_phases)
            if own is not None and own.number_phases is not None:
                phases = phases[: own.number_phases]
            offered = min([offered, *(headroom[p - 1] for p in phases)])
            offered = self._followed(connector, now, offered)
            draw = ev.draw_a(offered) if phases else 0.0
            for p in phases:
                headroom[p - 1] -= draw
            connector.offered_a = offered
            connector.draw_a = (
                draw if 1 in phases else 0.0,
                draw if 2 in phases else 0.0,
                draw if 3 in phases else 0.0,
            )

    def _followed(self, connector: ConnectorState, now: datetime, limit_a: float) -> float:
        """The limit the EV follows now when the one in force is `limit_a`: the highest of
        the last `reaction_s` seconds."""
        reaction_s = self.config.behaviour.reaction_s
        offers = connector.offers
        if reaction_s <= 0:
            offers.clear()
            return limit_a
        if not offers or offers[-1][1] != limit_a:
            offers.append((now, limit_a))
        horizon = now - timedelta(seconds=reaction_s)
        while len(offers) > 1 and offers[1][0] <= horizon:
            offers.pop(0)
        return max(limit for _, limit in offers)

    def set_behaviour(self, behaviour: ChargerBehaviour) -> None:
        """Behave differently from now on (a firmware update, a setting switched off): e.g.
        start ignoring profiles, or refusing them."""
        self.update()
        self.config = replace(self.config, behaviour=behaviour)
        self.update()

    # --- what tests and the demo read --------------------------------------------------

    def draw_a(self, connector_id: int) -> tuple[float, float, float]:
        """Per-phase current drawn now on the connector (charger phase order)."""
        self.update()
        return self.connectors[connector_id].draw_a

    def limit_a(self, connector_id: int) -> float | None:
        """The per-phase limit the profiles impose on the connector now (None: no profile)."""
        connector = self.connectors[connector_id]
        limit = self.store.connector_limit(connector_id, self.clock(), connector.transaction)
        return None if limit is None else limit.current_a

    def transaction_id(self, connector_id: int) -> str | None:
        tx = self.connectors[connector_id].transaction
        return None if tx is None else tx.transaction_id

    def snapshot(self, connector: ConnectorState) -> MeterSnapshot:
        voltage = self.config.voltage_v
        return MeterSnapshot(
            at=self.clock(),
            current_a=connector.draw_a,
            power_w=sum(connector.draw_a) * voltage,
            energy_wh=connector.energy_wh,
            voltage_v=voltage,
            soc_pct=connector.ev.soc_pct if connector.ev else None,
        )
