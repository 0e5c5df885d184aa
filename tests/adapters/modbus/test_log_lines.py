"""A dead meter costs the service log one line per failed read, naming the meter — not
pymodbus's own error with its hex dump of the last frames. Real TCP."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

from adapters.modbus.faults import FaultKind, FaultWindow
from adapters.modbus.profile import LoadProfile
from adapters.modbus.reader import ModbusMeterReader
from adapters.modbus.register_map import load_map
from adapters.modbus.simulator import MeterSimulator
from tests.adapters.modbus.support import ManualClock, settings_for

READER_LOG = "adapters.modbus.reader"
FAILED_READS = 3


@pytest.fixture
def pymodbus_unconfigured() -> Iterator[None]:
    """pymodbus's logger as a service starts with it: no level of its own (an earlier
    test may have quieted it)."""
    library = logging.getLogger("pymodbus")
    saved = library.level
    library.setLevel(logging.NOTSET)
    yield
    library.setLevel(saved)


@pytest.mark.usefixtures("pymodbus_unconfigured")
async def test_a_timeout_is_one_line_naming_the_meter(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger=READER_LOG)
    clock = ManualClock()
    simulator = MeterSimulator(
        load_map("sdm630"),
        LoadProfile.constant((3.0, 3.0, 3.0)),
        clock=clock.monotonic,
        faults=[FaultWindow(FaultKind.SILENCE, 0.0, 60.0)],
    )
    async with simulator:
        reader = ModbusMeterReader(settings_for(simulator.port, timeout_s=0.1), clock=clock.utc)
        caplog.clear()  # the simulator's start-up line
        for _ in range(FAILED_READS):
            reading = await reader.read()
            assert not reading.valid
            await asyncio.sleep(0.06)  # past the reconnect backoff: a new timeout each time
        await reader.close()

    lines = [line for r in caplog.records for line in r.getMessage().splitlines()]
    assert [r.name for r in caplog.records] == [READER_LOG] * FAILED_READS
    assert (
        lines
        == ["meter grid: timeout: no answer within 0.1 s to FC04 74 registers at 0"] * FAILED_READS
    )
    assert all(r.levelno == logging.DEBUG for r in caplog.records)
