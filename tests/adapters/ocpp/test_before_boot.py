"""Nothing goes to a charger before its boot is accepted, and a connection is announced once.

OCPP 1.6 §4.2 and 2.0.1 B02/B03: requests wait until the BootNotification is accepted;
while Pending only configuration and reports may go. A charger that reconnects without
restarting does not boot again: its first message shows its earlier boot stands.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.ocpp import CentralSystem, Request
from adapters.storage import Registration, SqliteStore
from ems.commands import LimitPeriod, ProfilePurpose, SetLimit
from ems.events import ChargerAdmitted, ChargerCapabilities, ChargerConnected
from tests.adapters.ocpp.stations import Events, RawClient, make_settings, raw_client, station16
from tests.adapters.ocpp.test_outbound import boot16

BOOT = {
    "ocpp1.6": {"chargePointVendor": "Acme", "chargePointModel": "Wall"},
    "ocpp2.0.1": {"chargingStation": {"model": "Pole", "vendorName": "Acme"}, "reason": "PowerUp"},
}
CHARGER = {"ocpp1.6": "CP1", "ocpp2.0.1": "CS1"}
BOTH = pytest.mark.parametrize("protocol", ["ocpp1.6", "ocpp2.0.1"])
QUIET_S = 0.3
"""How long a charger hears nothing, to show that nothing was sent."""


def limit(charger_id: str) -> SetLimit:
    return SetLimit(
        charger_id=charger_id,
        connector_id=1,
        purpose=ProfilePurpose.TX_DEFAULT,
        periods=(LimitPeriod(0, 16.0),),
        start=datetime(2024, 5, 1, 12, tzinfo=UTC),
        reason="test",
        duration_s=300,
    )


async def nothing_sent(charger: RawClient) -> bool:
    try:
        await charger.receive(within_s=QUIET_S)
    except TimeoutError:
        return True
    return False


async def answer(charger: RawClient, frame: list[Any], payload: dict[str, Any]) -> None:
    await charger.send(json.dumps([3, frame[1], payload]))


@BOTH
async def test_a_profile_waits_for_the_accepted_boot(system: CentralSystem, protocol: str) -> None:
    charger_id = CHARGER[protocol]
    async with raw_client(system, charger_id, protocol) as charger:
        sending = asyncio.create_task(system.send(limit(charger_id)))
        assert await nothing_sent(charger)
        booted = await charger.call("boot", "BootNotification", BOOT[protocol])
        assert booted[:2] == [3, "boot"]
        assert booted[2]["status"] == "Accepted"
        profile = await charger.receive()
        assert (profile[0], profile[2]) == (2, "SetChargingProfile")
        await answer(charger, profile, {"status": "Accepted"})
        assert (await sending).accepted
        assert (await charger.receive())[2] in ("GetConfiguration", "GetVariables")


async def test_a_pending_charger_gets_only_what_pending_allows(
    store: SqliteStore, events: Events
) -> None:
    system = CentralSystem(
        make_settings(unknown_chargers="pending", probe_capabilities=False), store, events
    )
    await system.start()
    try:
        async with raw_client(system, "NEW1", "ocpp1.6") as charger:
            booted = await charger.call("b1", "BootNotification", BOOT["ocpp1.6"])
            assert booted[2]["status"] == "Pending"
            sending = asyncio.create_task(system.send(limit("NEW1")))
            asking = asyncio.create_task(system.call("NEW1", Request("GetConfiguration", {})))
            question = await charger.receive()
            assert question[2] == "GetConfiguration"
            await answer(charger, question, {"configurationKey": []})
            assert (await asking).ok
            assert await nothing_sent(charger)
            assert not sending.done()

            store.set_registration("NEW1", Registration.ACCEPTED)
            assert (await charger.call("b2", "BootNotification", BOOT["ocpp1.6"]))[2][
                "status"
            ] == "Accepted"
            profile = await charger.receive()
            assert profile[2] == "SetChargingProfile"
            await answer(charger, profile, {"status": "Accepted"})
            assert (await sending).accepted
    finally:
        await system.stop()


@BOTH
async def test_a_charger_back_without_a_boot_is_served_after_its_first_message(
    system: CentralSystem, events: Events, protocol: str
) -> None:
    """A reconnect, not a restart: the charger sends a heartbeat, never a boot."""
    charger_id = CHARGER[protocol]
    async with raw_client(system, charger_id, protocol) as charger:
        resetting = asyncio.create_task(system.reset(charger_id))
        assert await nothing_sent(charger)
        assert not events.of(ChargerConnected)
        assert (await charger.call("hb", "Heartbeat", {}))[:2] == [3, "hb"]
        request = await charger.receive()
        assert request[2] == "Reset"
        await answer(charger, request, {"status": "Accepted"})
        assert (await resetting).accepted
        assert (await charger.call("hb2", "Heartbeat", {}))[:2] == [3, "hb2"]
    assert len(events.of(ChargerConnected)) == 1


async def test_a_request_waiting_for_the_boot_is_offline_when_the_charger_leaves(
    system: CentralSystem,
) -> None:
    async with raw_client(system, "CP1", "ocpp1.6") as charger:
        resetting = asyncio.create_task(system.reset("CP1"))
        assert await nothing_sent(charger)
    result = await asyncio.wait_for(resetting, 5)
    assert (result.ok, result.status) == (False, "Offline")


async def test_a_connection_is_announced_once(
    system: CentralSystem, events: Events, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="adapters.ocpp"):
        async with station16(system, "CP1") as cp:
            await boot16(cp)
            await events.wait_for(ChargerCapabilities, lambda e: e.max_stack_level == 3)
            lines = [
                r.getMessage()
                for r in caplog.records
                if r.name.startswith("adapters.ocpp") and "connected" in r.getMessage()
            ]
    assert len(events.of(ChargerConnected)) == 1
    assert len(lines) == 1
    assert "CP1" in lines[0]


async def test_a_pending_charger_is_announced_once_it_is_accepted(
    store: SqliteStore, events: Events
) -> None:
    system = CentralSystem(
        make_settings(unknown_chargers="pending", probe_capabilities=False), store, events
    )
    await system.start()
    try:
        async with raw_client(system, "NEW2", "ocpp1.6") as charger:
            await charger.call("b1", "BootNotification", BOOT["ocpp1.6"])
            await events.wait_for(ChargerAdmitted)
            assert not events.of(ChargerConnected)
            store.set_registration("NEW2", Registration.ACCEPTED)
            await charger.call("b2", "BootNotification", BOOT["ocpp1.6"])
            await charger.call("b3", "BootNotification", BOOT["ocpp1.6"])
        assert len(events.of(ChargerConnected)) == 1
    finally:
        await system.stop()
