"""SunSpec discovery over TCP: the marker at each base, the model chain, one-request reads."""

from __future__ import annotations

import pytest

from adapters.modbus.failures import FailureKind
from adapters.modbus.profile import LoadProfile
from adapters.modbus.reader import ModbusMeterReader
from adapters.modbus.register_map import Quantity, load_map
from adapters.modbus.simulator import MeterSimulator
from tests.adapters.modbus.support import ManualClock, settings_for


@pytest.mark.parametrize("model", [201, 203, 204])
@pytest.mark.parametrize("base", [40000, 50000, 0])
async def test_discovers_the_meter_model_at_each_base(base: int, model: int) -> None:
    clock = ManualClock()
    simulator = MeterSimulator(
        load_map("sunspec"),
        LoadProfile.constant((16.0, -3.0, 7.5)),
        clock=clock.monotonic,
        sunspec_base=base,
        sunspec_model=model,
    )
    async with simulator:
        reader = ModbusMeterReader(settings_for(simulator.port, "sunspec"), clock=clock.utc)
        reading = await reader.read()
        await reader.close()

    assert reading.valid, reading.reason
    assert reader.placed_map is not None
    assert reader.placed_map.blocks() == simulator.register_map.blocks()
    assert len(reader.placed_map.blocks()) == 1  # values and scale factors together
    assert reading.current_a[0] == pytest.approx(16.0, abs=0.01)
    if model == 201:
        assert reading.current_a[1:] == (None, None)
    else:
        assert reading.current_a[1] == pytest.approx(-3.0, abs=0.01)
        assert reading.current_a[2] == pytest.approx(7.5, abs=0.01)


async def test_scale_factor_follows_a_growing_load() -> None:
    clock = ManualClock()
    big = LoadProfile.constant((250.0, 240.0, 260.0))  # ~172 kW: W needs W_SF ≥ 1
    async with MeterSimulator(load_map("sunspec"), big, clock=clock.monotonic) as simulator:
        reader = ModbusMeterReader(settings_for(simulator.port, "sunspec"), clock=clock.utc)
        reading = await reader.read()
        await reader.close()
        truth = simulator.values_at(0.0)

    assert reading.valid, reading.reason
    assert reading.total_power_w == pytest.approx(truth[Quantity.TOTAL_POWER], rel=1e-3)


async def test_device_without_sunspec_is_reported() -> None:
    clock = ManualClock()
    profile = LoadProfile.constant((1.0, 1.0, 1.0))
    async with MeterSimulator(load_map("em24_e1"), profile, clock=clock.monotonic) as simulator:
        reader = ModbusMeterReader(settings_for(simulator.port, "sunspec"), clock=clock.utc)
        reading = await reader.read()
        await reader.close()

    assert not reading.valid
    assert reader.last_failure is not None
    assert reader.last_failure.kind is FailureKind.NO_SUNSPEC
    assert reading.current_a == (None, None, None)
