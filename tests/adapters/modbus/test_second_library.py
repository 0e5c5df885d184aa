"""Our reader against meters served by another Modbus library (pyModbusTCP), their
registers filled by hand as each meter's manual lays them out — with pyModbusTCP's own
number encoding, not ours. A mistake shared by our simulator and our reader (the same
codec, the same map) cannot pass here.

Each meter sees the same site: L1 and L3 import, L2 exports (PV), currents as the meter
gives them (magnitudes for all three models: the sign comes from the phase power)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from pyModbusTCP.server import DataBank, ModbusServer
from pyModbusTCP.utils import decode_ieee, encode_ieee, get_2comp, long_list_to_word

from adapters.modbus.reader import ModbusMeterReader
from tests.adapters.modbus.support import ManualClock, reading_value, settings_for

SITE = {
    "voltage_l1": 231.4,
    "voltage_l2": 229.9,
    "voltage_l3": 232.6,
    "current_l1": 10.5,
    "current_l2": -4.25,
    "current_l3": 7.0,
    "power_l1": 2400.0,
    "power_l2": -950.0,
    "power_l3": 1610.0,
    "total_power": 3060.0,
    "energy_import": 12_345_600.0,
    "frequency": 49.9,
}
"""What every meter measures, in A, V, W, Wh and Hz, import positive."""


@dataclass(frozen=True)
class Float32:
    """IEEE float32 in `unit`s (1000: kW or kWh), most-significant word first."""

    unit: float = 1.0

    def encode(self, value: float) -> list[int]:
        return list(long_list_to_word([encode_ieee(value / self.unit)], big_endian=True))

    def decode(self, value: float) -> float:
        """What a reader gets back from the encoded `value`, in the product's unit."""
        return float(decode_ieee(encode_ieee(value / self.unit))) * self.unit


@dataclass(frozen=True)
class ScaledInt:
    """A two's-complement integer holding value × weight (Carlo Gavazzi: V×10, A×1000)."""

    weight: float
    bits: int = 32
    big_endian: bool = True

    def encode(self, value: float) -> list[int]:
        raw = get_2comp(round(value * self.weight), self.bits) & ((1 << self.bits) - 1)
        if self.bits == 16:
            return [raw]
        return list(long_list_to_word([raw], big_endian=self.big_endian, long_long=self.bits == 64))

    def decode(self, value: float) -> float:
        return round(value * self.weight) / self.weight


Layout = dict[str, tuple[int, Float32 | ScaledInt]]
"""Quantity: (wire address, encoding), as the meter's manual gives them."""

FLOAT, KILO = Float32(), Float32(1000.0)
# Eastron SDM630 v2: input registers (FC 04), float32, energy in kWh.
SDM630: Layout = {
    "voltage_l1": (0x00, FLOAT),
    "voltage_l2": (0x02, FLOAT),
    "voltage_l3": (0x04, FLOAT),
    "current_l1": (0x06, FLOAT),
    "current_l2": (0x08, FLOAT),
    "current_l3": (0x0A, FLOAT),
    "power_l1": (0x0C, FLOAT),
    "power_l2": (0x0E, FLOAT),
    "power_l3": (0x10, FLOAT),
    "total_power": (0x34, FLOAT),
    "frequency": (0x46, FLOAT),
    "energy_import": (0x48, KILO),
}

# Carlo Gavazzi EM24-E1: holding registers (FC 03), INT32 least-significant word first,
# V×10, A×1000, W×10, kWh×10 (so Wh×0.01), Hz×10 as INT16.
DECI, MILLI = ScaledInt(10, big_endian=False), ScaledInt(1000, big_endian=False)
EM24: Layout = {
    "voltage_l1": (0x00, DECI),
    "voltage_l2": (0x02, DECI),
    "voltage_l3": (0x04, DECI),
    "current_l1": (0x0C, MILLI),
    "current_l2": (0x0E, MILLI),
    "current_l3": (0x10, MILLI),
    "power_l1": (0x12, DECI),
    "power_l2": (0x14, DECI),
    "power_l3": (0x16, DECI),
    "total_power": (0x28, DECI),
    "frequency": (0x33, ScaledInt(10, bits=16)),
    "energy_import": (0x34, ScaledInt(0.01, big_endian=False)),
}

# Schneider iEM3x00: holding registers (FC 03), manual numbers 1-based (wire = number − 1),
# float32, power in kW, energy INT64 in Wh.
IEM3000: Layout = {
    "current_l1": (2999, FLOAT),
    "current_l2": (3001, FLOAT),
    "current_l3": (3003, FLOAT),
    "voltage_l1": (3027, FLOAT),
    "voltage_l2": (3029, FLOAT),
    "voltage_l3": (3031, FLOAT),
    "power_l1": (3053, KILO),
    "power_l2": (3055, KILO),
    "power_l3": (3057, KILO),
    "total_power": (3059, KILO),
    "frequency": (3109, FLOAT),
    "energy_import": (3203, ScaledInt(1, bits=64)),
}

METERS = {
    "sdm630": (SDM630, 4),
    "em24_e1": (EM24, 3),
    "schneider_iem3000": (IEM3000, 3),
}
"""Map name: (layout, function code the meter answers on)."""


def as_the_meter_gives(name: str, value: float) -> float:
    """Currents are magnitudes on all three meters."""
    return abs(value) if name.startswith("current") else value


@contextmanager
def served(layout: Layout, function_code: int) -> Iterator[int]:
    """A pyModbusTCP server on 127.0.0.1 holding the site's values; yields its port."""
    bank = DataBank()
    write = bank.set_input_registers if function_code == 4 else bank.set_holding_registers
    for name, (address, encoding) in layout.items():
        assert write(address, encoding.encode(as_the_meter_gives(name, SITE[name])))
    server = ModbusServer("127.0.0.1", 0, no_block=True, data_bank=bank)
    server.start()
    try:
        # pyModbusTCP keeps the socketserver private; it is the only place the port is.
        yield int(server._service.server_address[1])
    finally:
        server.stop()


@pytest.mark.parametrize("map_name", list(METERS))
async def test_a_meter_served_by_pymodbustcp_reads_exactly(map_name: str) -> None:
    layout, function_code = METERS[map_name]
    clock = ManualClock()
    with served(layout, function_code) as port:
        reader = ModbusMeterReader(settings_for(port, map_name), clock=clock.utc)
        reading = await reader.read()
        await reader.close()

    assert reading.valid, reading.reason
    for name, (_, encoding) in layout.items():
        expected = encoding.decode(SITE[name])
        assert reading_value(reading, name) == pytest.approx(expected, rel=1e-12), name
    assert reading.current_a[1] is not None
    assert reading.current_a[1] < 0  # L2 exports: the sign of its power
    assert reading.power_w[1] == pytest.approx(-950.0, rel=1e-6)
