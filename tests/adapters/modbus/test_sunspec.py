"""SunSpec discovery over TCP: the marker at each base, the model chain, one-request reads."""

from __future__ import annotations

import pytest

from adapters.modbus.failures import FailureKind
from adapters.modbus.faults import FaultKind, FaultWindow
from adapters.modbus.profile import LoadProfile
from adapters.modbus.reader import ModbusMeterReader
from adapters.modbus.register_map import Quantity, load_map
from adapters.modbus.simulator import MeterSimulator
from ems.events import MeterReading
from tests.adapters.modbus.support import ManualClock, settings_for

PROFILE = LoadProfile.constant((1.0, 1.0, 1.0))


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
    async with MeterSimulator(load_map("em24_e1"), PROFILE, clock=clock.monotonic) as simulator:
        reader = ModbusMeterReader(settings_for(simulator.port, "sunspec"), clock=clock.utc)
        reading = await reader.read()
        await reader.close()

    assert not reading.valid
    assert reader.last_failure is not None
    assert reader.last_failure.kind is FailureKind.NO_SUNSPEC
    assert reading.current_a == (None, None, None)
    assert reading.reason is not None
    assert reading.reason.startswith(
        "no sunspec meter: no 'SunS' marker with a meter model (201-204) at 40000, 50000, 0"
    )
    # What the bases answered: nothing at 40000 and 50000 (and registers without the marker at 0).
    assert "code 2 (illegal data address) for FC03 2 registers at 40000" in reading.reason
    assert "code 2 (illegal data address) for FC03 2 registers at 50000" in reading.reason


async def _discover(
    simulator: MeterSimulator, clock: ManualClock, unit_id: int = 1
) -> tuple[MeterReading, ModbusMeterReader]:
    async with simulator:
        settings = settings_for(simulator.port, "sunspec", unit_id=unit_id)
        reader = ModbusMeterReader(settings, clock=clock.utc)
        reading = await reader.read()
        await reader.close()
    return reading, reader


async def test_a_gateway_refusing_the_unit_id_is_reported_as_such() -> None:
    clock = ManualClock()
    simulator = MeterSimulator(
        load_map("sunspec"), PROFILE, clock=clock.monotonic, unit_id=1, gateway=True
    )
    reading, reader = await _discover(simulator, clock, unit_id=7)

    assert not reading.valid
    assert reader.last_failure is not None
    assert reader.last_failure.kind is FailureKind.MODBUS_EXCEPTION
    assert reading.reason == (
        "modbus exception: SunSpec discovery: code 11 (gateway target device failed to"
        " respond) for FC03 2 registers at 40000"
    )


async def test_a_meter_failing_every_request_is_not_taken_for_one_without_sunspec() -> None:
    clock = ManualClock()
    simulator = MeterSimulator(
        load_map("sunspec"),
        PROFILE,
        clock=clock.monotonic,
        faults=[FaultWindow(FaultKind.EXCEPTION, 0.0, 60.0)],
    )
    reading, reader = await _discover(simulator, clock)

    assert reader.last_failure is not None
    assert reader.last_failure.kind is FailureKind.MODBUS_EXCEPTION
    assert reading.reason is not None
    assert "code 4 (server device failure) for FC03 2 registers at 40000" in reading.reason


async def test_a_silent_unit_id_is_a_timeout() -> None:
    clock = ManualClock()
    simulator = MeterSimulator(load_map("sunspec"), PROFILE, clock=clock.monotonic, unit_id=1)
    reading, reader = await _discover(simulator, clock, unit_id=7)

    assert reader.last_failure is not None
    assert reader.last_failure.kind is FailureKind.TIMEOUT
    assert reading.reason == "timeout: no answer within 0.3 s to FC03 2 registers at 40000"


async def test_a_refused_connection_is_a_connect_failure() -> None:
    clock = ManualClock()
    async with MeterSimulator(load_map("sunspec"), PROFILE, clock=clock.monotonic) as simulator:
        port = simulator.port
    reader = ModbusMeterReader(settings_for(port, "sunspec"), clock=clock.utc)
    reading = await reader.read()
    await reader.close()

    assert reader.last_failure is not None
    assert reader.last_failure.kind is FailureKind.CONNECT
    assert reading.reason == (
        f"cannot connect: 127.0.0.1:{port} refused the connection or is unreachable"
    )
