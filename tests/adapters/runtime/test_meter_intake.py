"""The runtime logs a meter's health when it changes — the first reading, a new kind of
reason to be invalid, a recovery — and not on every poll. A real meter over Modbus TCP,
polled once a simulated second."""

from __future__ import annotations

import asyncio
import logging

import pytest

from adapters.modbus.faults import FaultKind, FaultWindow
from adapters.modbus.poller import MeterPoller
from adapters.modbus.profile import LoadProfile
from adapters.modbus.reader import ModbusMeterReader
from adapters.modbus.register_map import load_map
from adapters.modbus.simulator import MeterSimulator
from adapters.runtime.counters import RuntimeCounters
from adapters.runtime.meter_intake import MeterIntake
from ems.events import MeterReading
from tests.adapters.modbus.support import ManualClock, settings_for

INTAKE_LOG = "adapters.runtime.meter_intake"
SILENT = FaultWindow(FaultKind.SILENCE, 2.0, 6.0)
NOT_AVAILABLE = FaultWindow(FaultKind.NAN, 6.0, 10.0)
POLLS = 12
PAUSE_S = 0.06
"""Real time between polls: shorter than the reconnect backoff, so a dead meter's reads
alternate between timeouts and waits to reconnect — one outage all the same."""


async def test_a_failing_meter_is_logged_when_its_reason_changes_not_on_every_poll(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=INTAKE_LOG)
    clock = ManualClock()
    simulator = MeterSimulator(
        load_map("sdm630"),
        LoadProfile.constant((12.0, 4.0, 7.5)),
        clock=clock.monotonic,
        faults=[SILENT, NOT_AVAILABLE],
    )
    forwarded: list[MeterReading] = []
    counters = RuntimeCounters()
    intake = MeterIntake(forwarded.append, counters)
    async with simulator:
        settings = settings_for(
            simulator.port, timeout_s=0.1, reconnect_min_s=0.15, reconnect_max_s=0.15
        )
        poller = MeterPoller(
            settings, ModbusMeterReader(settings, clock=clock.utc), clock=clock.utc
        )
        for _ in range(POLLS):
            intake(await poller.poll())
            clock.advance(1.0)
            await asyncio.sleep(PAUSE_S)
        await poller.source.close()

    logged = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == INTAKE_LOG]
    assert [r.valid for r in forwarded] == [
        True, True, False, False, False, False, False, False, False, False, True, True
    ]  # fmt: skip
    assert counters.meter_errors == 8
    no_answer = [r for r in forwarded if (r.reason or "").startswith(("timeout", "waiting"))]
    wrong_answer = [r for r in forwarded if (r.reason or "").startswith("not available")]
    assert no_answer
    assert all(r.silent for r in no_answer)
    assert wrong_answer
    assert not any(r.silent for r in wrong_answer)
    assert any((r.reason or "").startswith("waiting to reconnect") for r in forwarded)
    assert len(logged) == 4, logged
    assert logged[0] == ("INFO", "meter grid: first valid reading")
    assert logged[1][0] == "WARNING"
    assert logged[1][1].startswith(
        "meter grid: reading invalid: timeout: no answer within 0.1 s to FC04 74 registers at 0"
    )
    assert logged[2][0] == "WARNING"
    assert logged[2][1].startswith(
        "meter grid: reading invalid: not available: voltage_l1 (nan), voltage_l2 (nan)"
    )
    assert logged[3] == ("INFO", "meter grid: valid again after 8 invalid reading(s)")
