"""A meter simulator: any register map served over Modbus TCP from a load profile,
with faults injected over windows of simulated time.

It runs on pymodbus's server. Every request recomputes the measurements at the current
simulated time (profile time = elapsed × speed) and writes them into the registers the
way the real meter would: its data types, word order, scales and units, its sign
convention, current magnitudes where the meter gives those, SunSpec scale factors that
grow with the load. An FC 04 meter answers FC 03 reads of the same addresses with zeros
(as Eastron meters do). Only the configured unit id answers; others get silence, or
from a `gateway`, exception 0x0B as a gateway gives for a unit that does not answer it.

    async with MeterSimulator(load_map("sdm630"), profile) as sim:
        ...  # a reader on 127.0.0.1:sim.port
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType as SimType
from pymodbus.simulator import SimData, SimDevice

from adapters.modbus.codec import DataType, WordOrder, encode, encode_raw
from adapters.modbus.config import Sign
from adapters.modbus.faults import FaultKind, FaultWindow
from adapters.modbus.profile import LoadProfile
from adapters.modbus.register_map import CurrentSign, Quantity, RegisterMap, RegisterSpec
from adapters.modbus.sunspec import END_OF_MODELS, MARKER

SUNSPEC_COMMON_MODEL = (1, 66)
"""Model 1 (common: manufacturer, model, serial) precedes the meter model."""
SUNSPEC_METER_LENGTH = 105
_START_EXPONENT = {"current": -2, "voltage": -1, "frequency": -2, "power": 0, "energy": 0}
_INTEGER_LIMIT = {DataType.INT16: 32767, DataType.UINT32: 0xFFFFFFFF}


class MeterSimulator:
    def __init__(
        self,
        register_map: RegisterMap,
        profile: LoadProfile,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        unit_id: int = 1,
        speed: float = 1.0,
        faults: Iterable[FaultWindow] = (),
        clock: Callable[[], float] = time.monotonic,
        sign: Sign = Sign.IMPORT_POSITIVE,
        voltage_v: float = 230.0,
        frequency_hz: float = 50.0,
        energy_start_wh: float = 1_234_567.0,
        sunspec_base: int = 40000,
        sunspec_model: int = 203,
        slow_answer_s: float = 1.0,
        swap_words: bool = False,
        max_registers: int | None = None,
        raw_values: Mapping[Quantity, int] | None = None,
        gateway: bool = False,
    ) -> None:
        """`clock` gives seconds (monotonic); `speed` multiplies it into profile time.
        `sign` is how the simulated meter is mounted; `slow_answer_s` is how late a
        `slow` fault answers. `swap_words` serves every value of two or more registers
        in the other word order than the map says (a meter or gateway set to the other
        order, or a map that got it wrong): what a reader with that map must reject.
        `max_registers` is the most registers the meter serves in one read; a longer
        read is refused with exception 03, as Carlo Gavazzi EM24/EM340 do beyond 50
        (None: up to the Modbus limit). `raw_values` are bit patterns (unsigned,
        most-significant word first) served in place of those quantities' measurements,
        such as a meter's own "not available" (Carlo Gavazzi's "EEE" is 0x7FFFFFFF).
        `gateway` answers other unit ids with exception 0x0B instead of silence."""
        self.profile = profile
        self.faults = tuple(faults)
        self.speed = speed
        self.unit_id = unit_id
        self._host = host
        self._requested_port = port
        self._clock = clock
        self._sign = sign
        self._voltage_v = voltage_v
        self._frequency_hz = frequency_hz
        self._energy_start_wh = energy_start_wh
        self._slow_answer_s = slow_answer_s
        self._swap_words = swap_words
        self._max_registers = max_registers
        self._raw_values = dict(raw_values or {})
        self._gateway = gateway
        self._started_at: float | None = None
        self._server: ModbusTcpServer | None = None
        self._stopping = asyncio.Event()
        self.connections = 0
        """TCP connections accepted so far (a reader reconnecting shows here)."""
        self.function_code = register_map.function_code
        self._static: dict[int, int] = {}
        if register_map.sunspec is not None:
            model_address = sunspec_base + 2 + 2 + SUNSPEC_COMMON_MODEL[1]
            register_map = register_map.at_sunspec_model(model_address, sunspec_model)
            self._static = _sunspec_frame(sunspec_base, model_address, sunspec_model)
        self.register_map = register_map
        """The map as served (for SunSpec: placed at the model's address)."""
        self._check_fault_support()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("simulator not started")
        server_socket = self._server.transport.sockets[0]  # type: ignore[attr-defined]
        return int(server_socket.getsockname()[1])

    async def start(self) -> None:
        self._started_at = self._clock()
        self._stopping.clear()
        span = self._span()
        registers = [self._static.get(a, 0) for a in range(span[0], span[1])]
        self._write(registers, span[0], 0.0, None)
        measured = [SimData(span[0], values=registers, datatype=SimType.REGISTERS, readonly=True)]
        other_fc = [SimData(span[0], count=span[1] - span[0], datatype=SimType.REGISTERS)]
        if self.function_code == 3:
            other_fc = [SimData(0, datatype=SimType.INVALID)]
        bits = [SimData(0, values=False, datatype=SimType.BITS)]
        holding, inputs = (measured, other_fc) if self.function_code == 3 else (other_fc, measured)
        meter = SimDevice(
            self.unit_id, simdata=(bits, list(bits), holding, inputs), action=self._on_request
        )
        nobody = SimDevice(
            0,
            simdata=[SimData(0, count=0xFFFF, datatype=SimType.REGISTERS)],
            action=_target_failed if self._gateway else _no_answer,
        )
        devices = [meter] if self.unit_id == 0 else [meter, nobody]
        self._server = ModbusTcpServer(
            devices,
            address=(self._host, self._requested_port),
            ignore_missing_devices=True,
            trace_connect=self._on_connect,
        )
        await self._server.serve_forever(background=True)

    async def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            await self._server.shutdown()  # type: ignore[no-untyped-call]
            self._server = None

    async def __aenter__(self) -> MeterSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.stop()

    def sim_time(self) -> float:
        """Seconds of profile time since start."""
        if self._started_at is None:
            return 0.0
        return (self._clock() - self._started_at) * self.speed

    def active_fault(self, sim_time_s: float | None = None) -> FaultKind | None:
        moment = self.sim_time() if sim_time_s is None else sim_time_s
        return next((f.kind for f in self.faults if f.active(moment)), None)

    def values_at(self, sim_time_s: float) -> dict[Quantity, float]:
        """What the simulated meter measures, in the product's units and convention
        (import positive, signed currents)."""
        current = self.profile.current_at(sim_time_s)
        values: dict[Quantity, float] = {}
        total = 0.0
        for phase in (1, 2, 3):
            # Mains voltage is never perfectly still; a frozen-value check relies on it.
            volts = self._voltage_v + 1.5 * math.sin(2 * math.pi * sim_time_s / 11 + 2.1 * phase)
            amperes = current[phase - 1]
            values[Quantity(f"voltage_l{phase}")] = volts
            values[Quantity(f"current_l{phase}")] = amperes
            values[Quantity(f"power_l{phase}")] = volts * amperes
            total += volts * amperes
        values[Quantity.TOTAL_POWER] = total
        values[Quantity.ENERGY_IMPORT] = self._energy_start_wh + self.profile.import_energy_wh(
            sim_time_s, self._voltage_v
        )
        values[Quantity.FREQUENCY] = self._frequency_hz + 0.03 * math.sin(
            2 * math.pi * sim_time_s / 17
        )
        return values

    async def _on_request(
        self,
        function_code: int,
        start: int,
        address: int,
        count: int,
        registers: list[int],
        values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if self._max_registers is not None and count > self._max_registers:
            return ExcCodes.ILLEGAL_VALUE
        fault = self.active_fault()
        if fault is FaultKind.SILENCE:
            raise NoSuchIdException("silence fault")
        if fault is FaultKind.DROP:
            assert self._server is not None
            for connection in list(self._server.active_connections.values()):
                connection.close()
            raise NoSuchIdException("drop fault")
        if fault is FaultKind.EXCEPTION:
            return ExcCodes.DEVICE_FAILURE
        if fault is FaultKind.SLOW:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._slow_answer_s)
        if function_code == self.function_code and fault is not FaultKind.FROZEN:
            self._write(registers, start, self.sim_time(), fault)
        return None

    def _on_connect(self, connected: bool) -> None:
        if connected:
            self.connections += 1

    def _span(self) -> tuple[int, int]:
        addresses = [*self._static]
        for spec in self.register_map.registers:
            addresses += [spec.address, spec.address + spec.words - 1]
        addresses += list(self.register_map.scale_factor_addresses)
        return min(addresses), max(addresses) + 1

    def _write(
        self, registers: list[int], start: int, sim_time_s: float, fault: FaultKind | None
    ) -> None:
        """Encode the measurements at `sim_time_s` into `registers` (which begin at
        wire address `start`) as the meter would."""
        truth = self.values_at(sim_time_s)
        native = {
            spec: self._native(spec, truth[spec.quantity]) for spec in self.register_map.registers
        }
        exponents = self._scale_exponents(native)
        for spec, value in native.items():
            exponent = (
                0 if spec.scale_factor_address is None else exponents[spec.scale_factor_address]
            )
            if fault is FaultKind.NAN:
                words = _unavailable_words(spec)
            elif spec.quantity in self._raw_values:
                words = encode_raw(self._raw_values[spec.quantity], spec.data_type, spec.word_order)
            else:
                raw = value / spec.factor / 10.0**exponent
                words = encode(raw, spec.data_type, spec.word_order)
            if self._swap_words:
                words.reverse()
            offset = spec.address - start
            registers[offset : offset + len(words)] = words
        for address, exponent in exponents.items():
            registers[address - start] = encode(exponent, DataType.INT16, WordOrder.BIG)[0]
            if fault is FaultKind.NAN and self.register_map.scale_factor_not_available:
                registers[address - start] = min(self.register_map.scale_factor_not_available)

    def _native(self, spec: RegisterSpec, value: float) -> float:
        """A product-convention value as the meter reports it."""
        if spec.quantity.kind in ("current", "power") and self._sign is Sign.EXPORT_POSITIVE:
            value = -value
        if (
            spec.quantity.kind == "current"
            and self.register_map.current_sign is CurrentSign.FROM_POWER
        ):
            value = abs(value)
        return value

    def _scale_exponents(self, native: dict[RegisterSpec, float]) -> dict[int, int]:
        """Per scale-factor register, the smallest exponent at which every value using
        it fits its register (SunSpec meters raise it as the load grows)."""
        exponents: dict[int, int] = {}
        for spec, value in native.items():
            address = spec.scale_factor_address
            if address is None:
                continue
            exponent = max(exponents.get(address, -99), _START_EXPONENT[spec.quantity.kind])
            limit = _INTEGER_LIMIT.get(spec.data_type, 32767)
            while abs(value / spec.factor / 10.0**exponent) > limit:
                exponent += 1
            exponents[address] = exponent
        return exponents

    def _check_fault_support(self) -> None:
        if not any(f.kind is FaultKind.NAN for f in self.faults):
            return
        for spec in self.register_map.registers:
            if spec.data_type.is_float or spec.not_available:
                continue
            if (
                spec.scale_factor_address is not None
                and self.register_map.scale_factor_not_available
            ):
                continue
            raise ValueError(
                f"map {self.register_map.name} declares no not-available value for "
                f"{spec.quantity} ({spec.data_type}): a nan fault cannot be simulated"
            )


def _unavailable_words(spec: RegisterSpec) -> list[int]:
    if spec.data_type.is_float:
        return encode(math.nan, spec.data_type, spec.word_order)
    if spec.not_available:
        return encode_raw(min(spec.not_available), spec.data_type, spec.word_order)
    return encode_raw(0, spec.data_type, spec.word_order)


def _sunspec_frame(base: int, model_address: int, model_id: int) -> dict[int, int]:
    """The SunSpec registers around the meter model: marker, common model, end."""
    frame = {base: MARKER[0], base + 1: MARKER[1]}
    frame[base + 2], frame[base + 3] = SUNSPEC_COMMON_MODEL
    name = b"SiteCharge".ljust(32, b"\0")
    for index in range(16):
        frame[base + 4 + index] = int.from_bytes(name[2 * index : 2 * index + 2], "big")
    frame[model_address], frame[model_address + 1] = model_id, SUNSPEC_METER_LENGTH
    end = model_address + 2 + SUNSPEC_METER_LENGTH
    frame[end], frame[end + 1] = END_OF_MODELS, 0
    return frame


async def _no_answer(*_: object) -> ExcCodes | None:
    """Requests for another unit id go unanswered, like a meter that is not there."""
    raise NoSuchIdException("no such unit")


async def _target_failed(*_: object) -> ExcCodes | None:
    """A gateway's answer for a unit id it has no answer from."""
    return ExcCodes.GATEWAY_NO_RESPONSE
