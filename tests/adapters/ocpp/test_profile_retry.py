"""A refused profile retried as the controller retries it (`attempt=1`), through the real
WebSocket edge to the simulated charger, which checks units and stack levels itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.ocpp import CentralSystem
from adapters.ocpp.sim import OCPP16, OCPP201, ChargerBehaviour, SimChargerConfig, SimulatedCharger
from adapters.storage import SqliteStore
from ems.commands import LimitPeriod, ProfilePurpose, SetLimit
from ems.events import ChargerCapabilities
from tests.adapters.ocpp.stations import Events, make_settings

BOTH = pytest.mark.parametrize("protocol", [OCPP16, OCPP201])


async def central(store: SqliteStore, events: Events, **settings: Any) -> CentralSystem:
    system = CentralSystem(make_settings(**settings), store, events)
    await system.start()
    return system


async def charger(
    made: list[SimulatedCharger], system: CentralSystem, protocol: str, behaviour: ChargerBehaviour
) -> SimulatedCharger:
    config = SimChargerConfig(
        "CP1", protocol, heartbeat_interval_s=3600, meter_interval_s=3600, behaviour=behaviour
    )
    sim = SimulatedCharger(config, f"ws://127.0.0.1:{system.port}/ocpp")
    made.append(sim)
    await sim.start(timeout_s=5)
    return sim


def tx_default(limit_a: float) -> SetLimit:
    return SetLimit(
        charger_id="CP1",
        connector_id=1,
        purpose=ProfilePurpose.TX_DEFAULT,
        periods=(LimitPeriod(0, limit_a),),
        start=datetime.now(UTC) - timedelta(seconds=10),
        reason="test",
        duration_s=600,
    )


def sent_units(store: SqliteStore, protocol: str) -> list[tuple[str, str | None]]:
    """(rate unit, answer) of every SetChargingProfile sent, oldest first."""
    out = []
    for row in reversed(store.list_profiles("CP1")):
        if protocol == OCPP16:
            schedule = row.payload["csChargingProfiles"]["chargingSchedule"]
        else:
            schedule = row.payload["chargingProfile"]["chargingSchedule"][0]
        out.append((schedule["chargingRateUnit"], row.status))
    return out


@BOTH
async def test_a_watts_only_charger_accepts_the_retry(
    protocol: str, store: SqliteStore, events: Events, chargers: list[SimulatedCharger]
) -> None:
    # Not probed: the central system assumes A works, as with a charger that does not
    # report ChargingScheduleAllowedChargingRateUnit.
    system = await central(store, events, probe_capabilities=False)
    try:
        sim = await charger(chargers, system, protocol, ChargerBehaviour(rate_units=("W",)))
        first = tx_default(16.0)
        refused = await system.send(first)
        assert (refused.accepted, refused.status) == (False, "Rejected")
        retried = await system.send(replace(first, attempt=1))
        assert (retried.accepted, retried.status) == (True, "Accepted")
    finally:
        await system.stop()
    assert sent_units(store, protocol) == [("A", "Rejected"), ("W", "Accepted")]
    [installed] = sim.store.profiles
    assert installed.unit == "W"
    assert installed.periods[0].limit == 11040.0  # 16 A × 230 V × 3 phases
    assert sim.limit_a(1) == pytest.approx(16.0)


@BOTH
async def test_a_retry_that_could_only_repeat_itself_is_not_sent(
    protocol: str, store: SqliteStore, events: Events, chargers: list[SimulatedCharger]
) -> None:
    system = await central(store, events)
    try:
        behaviour = ChargerBehaviour(rate_units=("A",), max_stack_level=0, reject_profiles=True)
        await charger(chargers, system, protocol, behaviour)
        await events.wait_for(ChargerCapabilities)
        first = tx_default(16.0)
        assert not (await system.send(first)).accepted
        retried = await system.send(replace(first, attempt=1))
    finally:
        await system.stop()
    assert (retried.accepted, retried.status) == (False, "InvalidRequest")
    assert "no rendering left" in (retried.detail or "")
    assert sent_units(store, protocol) == [("A", "Rejected")]
