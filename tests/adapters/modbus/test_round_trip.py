"""Every shipped map against the simulator over real TCP: values, signs, word order."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.modbus.config import Sign
from adapters.modbus.failures import FailureKind
from adapters.modbus.profile import LoadProfile
from adapters.modbus.reader import ModbusMeterReader
from adapters.modbus.register_map import (
    MAPS_DIR,
    Measures,
    Quantity,
    load_map,
    shipped_map_names,
)
from adapters.modbus.simulator import MeterSimulator
from ems.events import MeterReading
from tests.adapters.modbus.support import ManualClock, reading_value, settings_for, tolerance

GRID_MAPS = [m for m in shipped_map_names() if load_map(m).measures is Measures.GRID]
"""The maps of meters that count import positive (a PV inverter's map measures production,
`test_sunspec_inverter`)."""
LOADS = {
    "import": (10.0, 5.5, 3.25),
    "export": (-12.5, 4.0, -0.75),  # PV pushing back on L1 and L3
}


async def _read_through_simulator(
    map_name: str, load: tuple[float, float, float], sign: Sign = Sign.IMPORT_POSITIVE
) -> tuple[MeterReading, MeterSimulator]:
    clock = ManualClock()
    register_map = load_map(map_name)
    simulator = MeterSimulator(
        register_map, LoadProfile.constant(load), clock=clock.monotonic, sign=sign
    )
    async with simulator:
        clock.advance(7.25)
        reader = ModbusMeterReader(
            settings_for(simulator.port, map_name, sign=sign), clock=clock.utc
        )
        reading = await reader.read()
        await reader.close()
    return reading, simulator


@pytest.mark.parametrize("case", list(LOADS))
@pytest.mark.parametrize("map_name", GRID_MAPS)
async def test_values_round_trip(map_name: str, case: str) -> None:
    reading, simulator = await _read_through_simulator(map_name, LOADS[case])

    assert reading.valid, reading.reason
    truth = simulator.values_at(7.25)
    for spec in simulator.register_map.registers:
        expected = truth[spec.quantity]
        got = reading_value(reading, spec.quantity.value)
        assert got == pytest.approx(expected, abs=tolerance(spec, expected)), spec.quantity


@pytest.mark.parametrize("map_name", GRID_MAPS)
async def test_export_is_negative_on_every_phase_quantity(map_name: str) -> None:
    reading, _ = await _read_through_simulator(map_name, LOADS["export"])

    assert reading.current_a[0] is not None
    assert reading.current_a[0] < 0
    assert reading.current_a[1] is not None
    assert reading.current_a[1] > 0
    assert reading.current_a[2] is not None
    assert reading.current_a[2] < 0
    assert reading.power_w[0] is not None
    assert reading.power_w[0] < 0
    assert reading.power_w[2] is not None
    assert reading.power_w[2] < 0
    assert reading.total_power_w is not None
    assert reading.total_power_w < 0


@pytest.mark.parametrize("map_name", ["sdm630", "em24_e1", "schneider_iem3000"])
async def test_meter_counting_the_other_way_reads_import_positive(map_name: str) -> None:
    reading, simulator = await _read_through_simulator(
        map_name, LOADS["import"], sign=Sign.EXPORT_POSITIVE
    )

    assert reading.valid, reading.reason
    assert reading.current_a[0] == pytest.approx(10.0, abs=0.01)
    truth = simulator.values_at(7.25)
    assert reading.total_power_w == pytest.approx(truth[Quantity.TOTAL_POWER], rel=1e-3)


async def test_eastron_read_with_fc03_reads_all_zero_and_says_so(tmp_path: Path) -> None:
    wrong = tmp_path / "sdm630_fc03.toml"
    text = (MAPS_DIR / "sdm630.toml").read_text()
    wrong.write_text(text.replace("function_code = 4", "function_code = 3"))
    clock = ManualClock()
    async with MeterSimulator(
        load_map("sdm630"), LoadProfile.constant((5.0, 5.0, 5.0)), clock=clock.monotonic
    ) as simulator:
        reader = ModbusMeterReader(settings_for(simulator.port, str(wrong)), clock=clock.utc)
        reading = await reader.read()
        await reader.close()

    assert not reading.valid
    assert reader.last_failure is not None
    assert reader.last_failure.kind is FailureKind.ALL_ZERO
