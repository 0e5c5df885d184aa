"""Carlo Gavazzi EM24/EM340 over real TCP, as the meters behave: at most 50 registers per
request (exception 03 beyond), and "EEE" (0x7FFFFFFF / 0x7FFF) for a value not available."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.modbus.failures import FailureKind
from adapters.modbus.profile import LoadProfile
from adapters.modbus.reader import ModbusMeterReader
from adapters.modbus.register_map import MAPS_DIR, Quantity, load_map
from adapters.modbus.simulator import MeterSimulator
from ems.events import MeterReading
from tests.adapters.modbus.support import ManualClock, settings_for

CARLO_GAVAZZI = ["em24_e1", "em340"]
MOST_REGISTERS_PER_REQUEST = 50
"""What the EM24 and EM340 answer; a longer read gets exception 03."""
LOAD = LoadProfile.constant((18.0, -6.5, 9.25))


async def _read(
    map_name: str,
    served_map: str,
    *,
    max_registers: int | None = MOST_REGISTERS_PER_REQUEST,
    raw_values: dict[Quantity, int] | None = None,
) -> tuple[MeterReading, ModbusMeterReader]:
    """One read with map `map_name` of a simulated `served_map` meter."""
    clock = ManualClock()
    simulator = MeterSimulator(
        load_map(served_map),
        LOAD,
        clock=clock.monotonic,
        max_registers=max_registers,
        raw_values=raw_values,
    )
    async with simulator:
        reader = ModbusMeterReader(settings_for(simulator.port, map_name), clock=clock.utc)
        reading = await reader.read()
        await reader.close()
    return reading, reader


@pytest.mark.parametrize("map_name", CARLO_GAVAZZI)
async def test_a_meter_answering_at_most_50_registers_is_read(map_name: str) -> None:
    reading, reader = await _read(map_name, map_name)

    assert reading.valid, reading.reason
    assert reading.current_a[0] == pytest.approx(18.0, abs=0.001)
    assert reading.current_a[1] == pytest.approx(-6.5, abs=0.001)
    assert all(b.count <= MOST_REGISTERS_PER_REQUEST for b in reader.register_map.blocks())


async def test_a_request_the_meter_finds_too_long_names_its_size_and_max_block(
    tmp_path: Path,
) -> None:
    unlimited = tmp_path / "em24_unlimited.toml"
    text = (MAPS_DIR / "em24_e1.toml").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("max_block")]
    unlimited.write_text("\n".join(lines) + "\n")

    reading, reader = await _read(str(unlimited), "em24_e1")

    assert not reading.valid
    assert reader.last_failure is not None
    assert reader.last_failure.kind is FailureKind.MODBUS_EXCEPTION
    assert reading.reason is not None
    assert "code 3 (illegal data value) for FC03 54 registers at 0" in reading.reason
    assert "max_block" in reading.reason
    assert "below 54" in reading.reason


@pytest.mark.parametrize(
    ("quantity", "eee", "shown"),
    [
        (Quantity.CURRENT_L2, 0x7FFFFFFF, "current_l2 (raw 0x7fffffff)"),
        (Quantity.FREQUENCY, 0x7FFF, "frequency (raw 0x7fff)"),
    ],
)
@pytest.mark.parametrize("map_name", CARLO_GAVAZZI)
async def test_eee_is_not_available_never_a_number(
    map_name: str, quantity: Quantity, eee: int, shown: str
) -> None:
    reading, reader = await _read(
        map_name, map_name, max_registers=None, raw_values={quantity: eee}
    )

    assert not reading.valid
    assert reader.last_failure is not None
    assert reader.last_failure.kind is FailureKind.NOT_AVAILABLE
    assert reading.reason == f"not available: {shown}"
    if quantity is Quantity.CURRENT_L2:
        assert reading.current_a[1] is None  # not 2147483.647 A
    else:
        assert reading.frequency_hz is None  # not 3276.7 Hz
    assert reading.current_a[0] == pytest.approx(18.0, abs=0.001)
