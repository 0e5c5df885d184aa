"""A PV inverter read for its production: SunSpec inverter models 101-103 (the
`sunspec_inverter` map), found by discovery. Once against our simulator, and once against
registers laid out by hand from the SunSpec model 103 definition and served by another
library (pyModbusTCP), so that a wrong offset shared by the map and our simulator cannot
pass."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pyModbusTCP.server import DataBank, ModbusServer

from adapters.modbus.config import Role
from adapters.modbus.profile import LoadProfile
from adapters.modbus.reader import ModbusMeterReader
from adapters.modbus.register_map import load_map
from adapters.modbus.simulator import MeterSimulator
from tests.adapters.modbus.support import ManualClock, settings_for

BASE = 40000


def u16(value: int) -> int:
    """A signed 16-bit value as its register."""
    return value & 0xFFFF


MODEL_103 = [
    *(103, 50),  # ID, L
    *(3060, 1020, 1020, 1020, u16(-2)),  # A, AphA, AphB, AphC, A_SF: 10.20 A per phase
    *(4000, 4000, 4000),  # PPVphAB, PPVphBC, PPVphCA
    *(2314, 2299, 2326, u16(-1)),  # PhVphA, PhVphB, PhVphC, V_SF
    *(7050, 0),  # W, W_SF: 7.05 kW produced
    *(4999, u16(-2)),  # Hz, Hz_SF
    *(7100, 0, u16(-300), 0, 99, u16(-2)),  # VA, VA_SF, VAr, VAr_SF, PF, PF_SF
    *(0x00BC, 0x614E, 0),  # WH (acc32: 12 345 678 Wh), WH_SF
]
"""Model 103's first points as the SunSpec definition lays them out."""


@contextmanager
def inverter_served_by_pymodbustcp() -> Iterator[int]:
    registers = [0x5375, 0x6E53, 1, 66, *([0] * 66)]
    model = MODEL_103 + [0] * (2 + 50 - len(MODEL_103))
    registers += [*model, 0xFFFF, 0]
    bank = DataBank()
    assert bank.set_holding_registers(BASE, registers)
    server = ModbusServer("127.0.0.1", 0, no_block=True, data_bank=bank)
    server.start()
    try:
        # pyModbusTCP keeps the socketserver private; it is the only place the port is.
        yield int(server._service.server_address[1])
    finally:
        server.stop()


async def test_an_inverter_laid_out_by_hand_reads_its_production() -> None:
    clock = ManualClock()
    with inverter_served_by_pymodbustcp() as port:
        settings = settings_for(port, "sunspec_inverter", id="pv", role=Role.PV)
        reader = ModbusMeterReader(settings, clock=clock.utc)
        reading = await reader.read()
        await reader.close()

    assert reading.valid, reading.reason
    assert reading.total_power_w == pytest.approx(7050.0)
    assert reading.current_a == pytest.approx((10.2, 10.2, 10.2))
    assert reading.voltage_v == pytest.approx((231.4, 229.9, 232.6))
    assert reading.frequency_hz == pytest.approx(49.99)
    assert reading.energy_import_wh == pytest.approx(12_345_678.0)


@pytest.mark.parametrize(
    ("model", "currents"), [(101, (10.0, 0.0, 0.0)), (103, (10.0, 10.0, 10.0))]
)
async def test_our_simulator_serves_an_inverter_model(
    model: int, currents: tuple[float, float, float]
) -> None:
    clock = ManualClock()
    producing = LoadProfile.constant(currents)
    simulator = MeterSimulator(
        load_map("sunspec_inverter"), producing, clock=clock.monotonic, sunspec_model=model
    )
    async with simulator:
        settings = settings_for(simulator.port, "sunspec_inverter", id="pv", role=Role.PV)
        reader = ModbusMeterReader(settings, clock=clock.utc)
        reading = await reader.read()
        await reader.close()

    assert reading.valid, reading.reason
    assert reading.total_power_w == pytest.approx(sum(currents) * 230.0, rel=0.01)
