"""Calls the central system sends: typed results, profiles, one call in flight."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from adapters.ocpp import CallResult, CentralSystem, Request
from adapters.storage import SqliteStore
from ems.commands import ClearLimit, LimitPeriod, ProfilePurpose, SetLimit
from ems.events import ChargerCapabilities
from tests.adapters.ocpp.stations import (
    Events,
    Station16,
    Station201,
    raw_client,
    station16,
    station201,
)

START = datetime(2024, 5, 1, 12, tzinfo=UTC)


def limit(charger_id: str, limit_a: float = 16.0) -> SetLimit:
    return SetLimit(
        charger_id=charger_id,
        connector_id=1,
        purpose=ProfilePurpose.TX_DEFAULT,
        periods=(LimitPeriod(0, limit_a),),
        start=START,
        reason="test",
        duration_s=300,
    )


async def boot16(cp: Station16) -> None:
    await cp.call(
        call16.BootNotification(charge_point_vendor="Acme", charge_point_model="Wall"),
        suppress=False,
    )


async def boot201(cs: Station201) -> None:
    await cs.call(
        call201.BootNotification(
            charging_station={"model": "Pole", "vendor_name": "Acme"}, reason="PowerUp"
        ),
        suppress=False,
    )


async def test_remote_start_and_stop_v16(system: CentralSystem) -> None:
    async with station16(system, "CP1") as cp:
        await boot16(cp)
        result = await system.remote_start("CP1", "TAG1", connector_id=1)
        assert result == CallResult(True, "Accepted", {"status": "Accepted"})
        assert (await cp.inbox.wait_for("RemoteStartTransaction")) == {
            "id_tag": "TAG1",
            "connector_id": 1,
        }
        assert (await system.remote_stop("CP1", "42")).accepted
        assert (await cp.inbox.wait_for("RemoteStopTransaction")) == {"transaction_id": 42}


async def test_remote_start_and_stop_v201(system: CentralSystem) -> None:
    async with station201(system, "CS1") as cs:
        await boot201(cs)
        assert (await system.remote_start("CS1", "TAG1", connector_id=2)).accepted
        request = await cs.inbox.wait_for("RequestStartTransaction")
        assert request["id_token"] == {"id_token": "TAG1", "type": "Central"}
        assert request["evse_id"] == 2
        assert (await system.remote_stop("CS1", "tx-1")).accepted
        assert (await cs.inbox.wait_for("RequestStopTransaction")) == {"transaction_id": "tx-1"}


async def test_operator_calls_reach_the_charger(system: CentralSystem) -> None:
    async with station16(system, "CP1") as cp:
        await boot16(cp)
        assert (await system.reset("CP1", hard=True)).accepted
        assert (await cp.inbox.wait_for("Reset")) == {"type": "Hard"}
        assert (await system.change_availability("CP1", 1, operative=False)).accepted
        assert (await cp.inbox.wait_for("ChangeAvailability")) == {
            "connector_id": 1,
            "type": "Inoperative",
        }
        assert (await system.unlock_connector("CP1", 1)).status == "Unlocked"
        assert (await system.trigger_message("CP1", "MeterValues", 1)).accepted
    async with station201(system, "CS1") as cs:
        await boot201(cs)
        assert (await system.reset("CS1")).accepted
        assert (await cs.inbox.wait_for("Reset")) == {"type": "OnIdle"}
        assert (await system.change_availability("CS1", 2, operative=True)).accepted
        assert (await cs.inbox.wait_for("ChangeAvailability"))["operational_status"] == (
            "Operative"
        )


async def test_profiles_set_clear_composite_v16(
    system: CentralSystem, store: SqliteStore, events: Events
) -> None:
    async with station16(system, "CP1") as cp:
        await boot16(cp)
        await events.wait_for(ChargerCapabilities)
        answer = await system.send(limit("CP1", 16.07))
        assert answer.accepted
        assert answer.status == "Accepted"
        sent = await cp.inbox.wait_for("SetChargingProfile")
        profile = sent["cs_charging_profiles"]
        assert sent["connector_id"] == 1
        assert profile["charging_profile_purpose"] == "TxDefaultProfile"
        assert profile["charging_schedule"]["charging_rate_unit"] == "A"
        assert profile["charging_schedule"]["charging_schedule_period"][0]["limit"] == 16.0

        cleared = await system.send(ClearLimit("CP1", 1, ProfilePurpose.TX_DEFAULT, "done"))
        assert cleared.accepted
        assert (await cp.inbox.wait_for("ClearChargingProfile"))["charging_profile_purpose"] == (
            "TxDefaultProfile"
        )
        composite = await system.get_composite_schedule("CP1", 1, 3600, "A")
        assert composite.accepted
        assert composite.payload["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 16.0

    rows = store.list_profiles("CP1")
    assert [(r.action, r.status) for r in rows] == [
        ("ClearChargingProfile", "Accepted"),
        ("SetChargingProfile", "Accepted"),
    ]
    assert rows[1].purpose == "tx_default"
    assert rows[1].answered_at is not None


async def test_profiles_set_clear_composite_v201(system: CentralSystem, events: Events) -> None:
    async with station201(system, "CS1") as cs:
        await boot201(cs)
        await events.wait_for(ChargerCapabilities)
        answer = await system.send(limit("CS1"))
        assert answer.accepted
        sent = await cs.inbox.wait_for("SetChargingProfile")
        assert sent["evse_id"] == 1
        assert sent["charging_profile"]["stack_level"] == 0
        assert (await system.send(ClearLimit("CS1", 1, ProfilePurpose.TX_DEFAULT, "x"))).accepted
        composite = await system.get_composite_schedule("CS1", 1, 600)
        assert composite.accepted
        assert composite.payload["schedule"]["evseId"] == 1


async def test_version_specific_requests(system: CentralSystem) -> None:
    async with station16(system, "CP1") as cp:
        await boot16(cp)
        result = await system.call("CP1", Request("GetConfiguration", {"key": ["Nope"]}))
        assert result.ok
        assert result.status == "Answered"
        assert result.payload["unknownKey"] == ["Nope"]
        # An action of the other version is refused before it is sent.
        other = await system.call("CP1", Request("GetVariables", {"getVariableData": []}))
        assert other.status == "InvalidRequest"
    async with station201(system, "CS1") as cs:
        await boot201(cs)
        answer = await system.call(
            "CS1",
            call201.GetVariables(
                get_variable_data=[
                    {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "Enabled"}}
                ]
            ),
        )
        assert answer.payload["getVariableResult"][0]["attributeValue"] == "true"


async def test_offline_charger_gets_a_typed_answer(system: CentralSystem) -> None:
    assert (await system.reset("CP9")).status == "Offline"
    answer = await system.send(limit("CP9"))
    assert (answer.accepted, answer.status) == (False, "Offline")


async def test_invalid_request_is_not_sent(system: CentralSystem) -> None:
    async with station16(system, "CP1") as cp:
        result = await system.call("CP1", Request("Reset", {"type": "Sideways"}))
        assert result.status == "InvalidRequest"
        assert result.error_code == "PropertyConstraintViolation"
        assert "Reset" not in cp.inbox.actions()


async def test_call_error_timeout_and_one_call_in_flight(system: CentralSystem) -> None:
    async with raw_client(system, "CP1", "ocpp1.6") as charger:
        # Back without a boot (no capability probe): its first message opens it to calls.
        assert (await charger.call("hb", "Heartbeat", {}))[:2] == [3, "hb"]
        first = asyncio.create_task(system.reset("CP1"))
        second = asyncio.create_task(system.unlock_connector("CP1", 1))
        third = asyncio.create_task(system.call("CP1", Request("Reset", {"type": "Soft"}), 0.2))
        frame = await charger.receive()
        assert frame[2] == "Reset"
        # While the first call waits for its answer, nothing else is sent.
        try:
            extra = await charger.receive(within_s=0.2)
        except TimeoutError:
            extra = None
        assert extra is None
        await charger.send(json.dumps([4, frame[1], "NotSupported", "no resets here", {}]))
        assert (await first) == CallResult(
            False, "CallError:NotSupported", {}, "NotSupported", "no resets here"
        )
        frame = await charger.receive()
        assert frame[2] == "UnlockConnector"
        await charger.send(json.dumps([3, frame[1], {"status": "Unlocked"}]))
        assert (await second).status == "Unlocked"
        frame = await charger.receive()
        assert frame[2] == "Reset"
        result = await third  # never answered
        assert (result.ok, result.status) == (False, "Timeout")
