"""Reading one meter over Modbus TCP with pymodbus: one request per block, short
timeouts, no silent retries, reconnect with backoff.

pymodbus defaults (3 s timeout × 3 retries) block about 12 s on a dead meter, so the
client runs with `retries=0` and the configured timeout. After a timeout the meter may
still answer the old request; that late answer would carry an old transaction id and
be taken for the next one, so every timeout or garbled answer closes the connection and
the next read opens a fresh one (after a backoff that doubles while failures last).

Every failed read is one debug line naming the meter; pymodbus's own log of it (an error
with a hex dump of the last 20 frames, on every timeout) is kept out of the service log.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import NoReturn

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException

from adapters.clock import Clock, utc_now
from adapters.modbus.blocks import ReadBlock
from adapters.modbus.config import MeterSettings
from adapters.modbus.decoding import decode_values
from adapters.modbus.failures import FailureKind, ReadFailure
from adapters.modbus.health import FrozenWatch, assess, failed_reading, normalise_signs
from adapters.modbus.register_map import RegisterMap, SunSpecLayout, load_map
from adapters.modbus.sunspec import find_meter_model
from ems.events import MeterReading

LOG = logging.getLogger(__name__)
ILLEGAL_DATA_ADDRESS = 2
"""What a device answers for registers it does not have (a SunSpec base it does not use)."""
ILLEGAL_DATA_VALUE = 3
"""Among others, what a meter answers a read of more registers than it serves at once."""
EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}


def quiet_pymodbus() -> None:
    """Keep pymodbus's own log lines out of the service log: the reader reports every
    failure itself. Left alone when pymodbus's logger has a level of its own, or when the
    root logger is at DEBUG (`ems -vv`): then someone wants its frames."""
    library = logging.getLogger("pymodbus")
    if library.level == logging.NOTSET and logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        library.setLevel(logging.CRITICAL)


class _Failed(Exception):
    def __init__(self, failure: ReadFailure) -> None:
        super().__init__(str(failure))
        self.failure = failure


class ModbusMeterReader:
    """One meter: `read()` returns a MeterReading and never raises for I/O problems."""

    def __init__(
        self,
        settings: MeterSettings,
        register_map: RegisterMap | None = None,
        *,
        clock: Clock = utc_now,
    ) -> None:
        if settings.host is None:
            raise ValueError(f"meter {settings.id} has no host")
        self.meter_id = settings.id
        self.settings = settings
        self.register_map = register_map or load_map(settings.map)
        self._clock = clock
        self._client: AsyncModbusTcpClient | None = None
        self._placed: RegisterMap | None = None if self.register_map.sunspec else self.register_map
        self._blocks: tuple[ReadBlock, ...] = ()
        self._frozen = FrozenWatch()
        self._backoff_s = 0.0
        self._retry_at = 0.0
        self._connection_failure: ReadFailure | None = None
        self.last_failure: ReadFailure | None = None
        """Why the last reading was invalid (None when it was valid)."""
        quiet_pymodbus()

    @property
    def placed_map(self) -> RegisterMap | None:
        """The map in use: for SunSpec, the discovered model at its address."""
        return self._placed

    async def read(self) -> MeterReading:
        at = self._clock()
        try:
            words, register_map = await self._fetch()
        except _Failed as failed:
            self.last_failure = failed.failure
            reading = failed_reading(self.meter_id, at, failed.failure, self.settings.circuit)
        else:
            values, unavailable = decode_values(register_map, words)
            values = normalise_signs(register_map, self.settings.sign, values)
            reading, self.last_failure = assess(
                self.meter_id, at, values, unavailable, self.settings, self._frozen
            )
        if self.last_failure is not None:
            LOG.debug("meter %s: %s", self.meter_id, self.last_failure)
        return reading

    async def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def _fetch(self) -> tuple[dict[int, int], RegisterMap]:
        if self._client is None:
            await self._connect()
        if self._placed is None:
            self._placed = await self._discover()
        if not self._blocks:
            self._blocks = self._placed.blocks()
        words: dict[int, int] = {}
        for block in self._blocks:
            registers = await self._read_block(block.address, block.count)
            if isinstance(registers, ReadFailure):
                raise _Failed(registers)
            words.update(
                zip(range(block.address, block.address + block.count), registers, strict=True)
            )
        self._backoff_s = 0.0
        self._connection_failure = None
        return words, self._placed

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        wait_s = self._retry_at - loop.time()
        if wait_s > 0 and self._connection_failure is not None:
            raise _Failed(
                ReadFailure(
                    FailureKind.WAITING,
                    f"next attempt in {wait_s:.1f} s; last: {self._connection_failure}",
                    waiting_out=self._connection_failure.kind,
                )
            )
        settings = self.settings
        client = AsyncModbusTcpClient(
            settings.host or "",
            port=settings.port,
            name=f"meter {settings.id}",
            timeout=settings.timeout_s,
            retries=0,
            reconnect_delay=0,  # reconnecting is ours: with backoff and a reading per try
        )
        started = loop.time()
        if not await client.connect():
            client.close()
            quick = loop.time() - started < 0.9 * settings.timeout_s
            detail = (
                f"{settings.host}:{settings.port} refused the connection or is unreachable"
                if quick
                else f"no TCP answer from {settings.host}:{settings.port}"
                f" within {settings.timeout_s} s"
            )
            self._give_up(ReadFailure(FailureKind.CONNECT, detail))
        self._client = client

    async def _discover(self) -> RegisterMap:
        """The SunSpec meter model, found by walking the device's registers. I/O errors
        (timeouts, a closed connection) end the walk with their own failure."""
        layout = self.register_map.sunspec
        assert layout is not None
        refusals: list[ReadFailure] = []

        async def read(address: int, count: int) -> list[int] | None:
            answer = await self._read_block(address, count)
            if isinstance(answer, ReadFailure):
                refusals.append(answer)
                return None
            return answer

        found = await find_meter_model(read, layout)
        if found is None:
            raise _Failed(_not_found(layout, refusals))
        model_address, model_id = found
        return self.register_map.at_sunspec_model(model_address, model_id)

    async def _read_block(self, address: int, count: int) -> list[int] | ReadFailure:
        """The registers, or the Modbus exception the meter answered with. I/O errors
        close the connection and raise _Failed."""
        client = self._client
        assert client is not None
        function_code = self.register_map.function_code
        call = client.read_input_registers if function_code == 4 else client.read_holding_registers
        loop = asyncio.get_running_loop()
        started = loop.time()
        where = f"FC{function_code:02d} {count} registers at {address}"
        try:
            response = await call(address, count=count, device_id=self.settings.unit_id)
        except ConnectionException:
            self._give_up(ReadFailure(FailureKind.DISCONNECTED, f"connection lost reading {where}"))
        except ModbusException as error:
            if not client.connected:
                failure = ReadFailure(
                    FailureKind.DISCONNECTED, f"the meter closed the connection during {where}"
                )
            elif loop.time() - started >= 0.9 * self.settings.timeout_s:
                failure = ReadFailure(
                    FailureKind.TIMEOUT, f"no answer within {self.settings.timeout_s} s to {where}"
                )
            else:
                failure = ReadFailure(FailureKind.PROTOCOL, f"{where}: {error}")
            self._give_up(failure)
        if response.isError():
            code = int(getattr(response, "exception_code", 0))
            return ReadFailure(
                FailureKind.MODBUS_EXCEPTION, self._refusal(code, where, count), exception_code=code
            )
        registers = list(response.registers)
        if len(registers) != count:
            self._give_up(
                ReadFailure(FailureKind.PROTOCOL, f"{len(registers)} registers for {where}")
            )
        return registers

    def _refusal(self, code: int, where: str, count: int) -> str:
        """What the meter's exception answer says, with what to do about a request the
        meter may find too long (Carlo Gavazzi EM24/EM340 serve at most 50 registers)."""
        detail = f"code {code} ({EXCEPTION_NAMES.get(code, 'unknown')}) for {where}"
        if code == ILLEGAL_DATA_VALUE and count > 1:
            register_map = self.register_map
            detail += (
                f"; a meter answers this to a request for more registers than it serves at"
                f" once: set max_block (now {register_map.max_block}) in map"
                f" {register_map.name} below {count}"
            )
        return detail

    def _give_up(self, failure: ReadFailure) -> NoReturn:
        """Close the connection, back off, and fail this read."""
        if self._client is not None:
            self._client.close()
            self._client = None
        settings = self.settings
        self._backoff_s = min(
            max(2 * self._backoff_s, settings.reconnect_min_s), settings.reconnect_max_s
        )
        self._retry_at = asyncio.get_running_loop().time() + self._backoff_s
        self._connection_failure = failure
        raise _Failed(failure)


def _not_found(layout: SunSpecLayout, refusals: list[ReadFailure]) -> ReadFailure:
    """Why discovery found no meter model. A device without SunSpec answers "illegal data
    address" at the bases (or registers without the marker); any other exception (a
    gateway that cannot reach the unit id, a device failure) is what went wrong."""
    failed = next((r for r in refusals if r.exception_code != ILLEGAL_DATA_ADDRESS), None)
    if failed is not None:
        return replace(failed, detail=f"SunSpec discovery: {failed.detail}")
    bases = ", ".join(str(b) for b in layout.bases)
    detail = f"no 'SunS' marker with a meter model (201-204) at {bases}"
    if refusals:
        detail += f"; {'; '.join(r.detail for r in refusals)}"
    return ReadFailure(FailureKind.NO_SUNSPEC, detail)
