"""Fixtures of the adapter tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.ocpp.sim import SimulatedCharger


@pytest.fixture
async def chargers() -> AsyncIterator[list[SimulatedCharger]]:
    """The simulated chargers a test starts, stopped after it."""
    made: list[SimulatedCharger] = []
    yield made
    for sim in made:
        await sim.stop()
