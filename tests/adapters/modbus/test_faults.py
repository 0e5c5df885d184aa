"""Each injected fault gives an invalid reading within the configured time, and the
reader recovers once the fault is over. Real TCP; simulated time for the windows."""

from __future__ import annotations

import asyncio

import pytest

from adapters.modbus.failures import FailureKind
from adapters.modbus.faults import FaultKind, FaultWindow
from adapters.modbus.profile import LoadProfile
from adapters.modbus.reader import ModbusMeterReader
from adapters.modbus.register_map import Quantity, load_map
from adapters.modbus.simulator import MeterSimulator
from ems.events import MeterReading
from tests.adapters.modbus.support import ManualClock, settings_for

FAULT_START_S, FAULT_END_S = 10.0, 20.0
FROZEN_AFTER_S = 3.0
POLL_S = 1.0
EXPECTED = {
    FaultKind.SILENCE: FailureKind.TIMEOUT,
    FaultKind.SLOW: FailureKind.TIMEOUT,
    FaultKind.EXCEPTION: FailureKind.MODBUS_EXCEPTION,
    FaultKind.FROZEN: FailureKind.FROZEN,
    FaultKind.NAN: FailureKind.NOT_AVAILABLE,
    FaultKind.DROP: FailureKind.DISCONNECTED,
}
CONNECTION_FAULTS = {FaultKind.SILENCE, FaultKind.SLOW, FaultKind.DROP}


async def _poll(reader: ModbusMeterReader, clock: ManualClock) -> MeterReading:
    """One poll a simulated second later (with a real pause longer than the backoff)."""
    clock.advance(POLL_S)
    await asyncio.sleep(0.06)
    return await reader.read()


@pytest.mark.parametrize("kind", list(EXPECTED))
@pytest.mark.parametrize("map_name", ["sdm630", "em24_e1"])
async def test_fault_is_noticed_in_time_and_recovered_from(map_name: str, kind: FaultKind) -> None:
    clock = ManualClock()
    simulator = MeterSimulator(
        load_map(map_name),
        LoadProfile.constant((20.0, 12.0, -4.0)),
        clock=clock.monotonic,
        faults=[FaultWindow(kind, FAULT_START_S, FAULT_END_S)],
        slow_answer_s=0.5,
    )
    async with simulator:
        settings = settings_for(
            simulator.port, map_name, timeout_s=0.2, frozen_after_s=FROZEN_AFTER_S
        )
        reader = ModbusMeterReader(settings, clock=clock.utc)
        clock.advance(FAULT_START_S - 2 * POLL_S)
        before = await reader.read()
        assert before.valid, before.reason

        noticed_at = None
        while clock.seconds < FAULT_END_S - POLL_S:
            reading = await _poll(reader, clock)
            if not reading.valid and reader.last_failure is not None:
                assert reader.last_failure.kind in (EXPECTED[kind], FailureKind.WAITING)
                if reader.last_failure.kind is EXPECTED[kind]:
                    noticed_at = clock.seconds
                    break
            else:
                assert clock.seconds < FAULT_START_S or kind is FaultKind.FROZEN, reading
        assert noticed_at is not None, f"{kind} never noticed"
        limit = FROZEN_AFTER_S + POLL_S if kind is FaultKind.FROZEN else POLL_S
        assert noticed_at <= FAULT_START_S + limit
        if kind is not FaultKind.FROZEN:
            assert reading.current_a == (None, None, None)  # never 0 A for a failed read

        clock.seconds = FAULT_END_S
        for _ in range(20):
            reading = await _poll(reader, clock)
            if reading.valid:
                break
        assert reading.valid, reading.reason
        truth = simulator.values_at(clock.seconds)
        assert reading.voltage_v[0] == pytest.approx(truth[Quantity.VOLTAGE_L1], abs=0.06)
        if kind in CONNECTION_FAULTS:
            assert simulator.connections > 1  # reconnected rather than reusing the socket
        await reader.close()


async def test_out_of_range_values_are_invalid() -> None:
    clock = ManualClock()
    profile = LoadProfile.constant((5000.0, 1.0, 1.0))
    async with MeterSimulator(load_map("sdm630"), profile, clock=clock.monotonic) as simulator:
        reader = ModbusMeterReader(settings_for(simulator.port), clock=clock.utc)
        reading = await reader.read()
        await reader.close()

    assert not reading.valid
    assert reader.last_failure is not None
    assert reader.last_failure.kind is FailureKind.OUT_OF_RANGE
    assert "current_l1" in (reading.reason or "")


async def test_closed_port_is_a_connect_failure_then_backs_off() -> None:
    clock = ManualClock()
    async with MeterSimulator(
        load_map("sdm630"), LoadProfile.constant((1.0, 1.0, 1.0)), clock=clock.monotonic
    ) as simulator:
        port = simulator.port
    reader = ModbusMeterReader(
        settings_for(port, reconnect_min_s=5.0, reconnect_max_s=5.0), clock=clock.utc
    )
    first = await reader.read()
    second = await reader.read()
    await reader.close()

    assert not first.valid
    assert first.reason is not None
    assert first.reason.startswith("cannot connect")
    assert second.reason is not None
    assert second.reason.startswith("waiting to reconnect")
