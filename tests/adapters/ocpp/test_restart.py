"""A server restart in the middle of a session: the transaction goes on, ids stay unique."""

from __future__ import annotations

from pathlib import Path

from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from adapters.ocpp import CentralSystem
from adapters.storage import SqliteStore, TransactionState
from ems.events import MeterSample, SessionEnded
from tests.adapters.ocpp.stations import Events, make_settings, station16, station201

NOW = "2024-05-01T12:00:00Z"


async def start_system(db_path: Path, events: Events) -> tuple[CentralSystem, SqliteStore]:
    store = SqliteStore(db_path)
    system = CentralSystem(make_settings(), store, events)
    await system.start()
    return system, store


async def test_restart_mid_session_v16(db_path: Path) -> None:
    events = Events()
    system, store = await start_system(db_path, events)
    async with station16(system, "CP1") as cp:
        first = await cp.call(
            call16.StartTransaction(connector_id=1, id_tag="TAG1", meter_start=0, timestamp=NOW),
            suppress=False,
        )
        second = await cp.call(
            call16.StartTransaction(connector_id=2, id_tag="TAG1", meter_start=0, timestamp=NOW),
            suppress=False,
        )
        await system.stop()
    store.close()

    events = Events()
    system, store = await start_system(db_path, events)
    try:
        assert [t.ocpp_id for t in store.list_transactions(open_only=True)] == [
            str(second.transaction_id),
            str(first.transaction_id),
        ]
        async with station16(system, "CP1") as cp:
            await cp.call(
                call16.MeterValues(
                    connector_id=1,
                    transaction_id=first.transaction_id,
                    meter_value=[{"timestamp": NOW, "sampledValue": [{"value": "500"}]}],
                ),
                suppress=False,
            )
            sample = await events.wait_for(MeterSample)
            assert sample.energy_wh == 500.0
            await cp.call(
                call16.StopTransaction(
                    meter_stop=800, timestamp=NOW, transaction_id=first.transaction_id
                ),
                suppress=False,
            )
            ended = await events.wait_for(SessionEnded)
            assert (ended.transaction_id, ended.connector_id) == (str(first.transaction_id), 1)
            third = await cp.call(
                call16.StartTransaction(
                    connector_id=1, id_tag="TAG1", meter_start=800, timestamp=NOW
                ),
                suppress=False,
            )
        assert third.transaction_id not in (first.transaction_id, second.transaction_id)
        assert third.transaction_id > second.transaction_id
        record = store.find_transaction("CP1", str(first.transaction_id))
        assert record is not None
        assert record.state == TransactionState.STOPPED
    finally:
        await system.stop()
        store.close()


async def test_restart_mid_session_v201(db_path: Path) -> None:
    def event(kind: str, seq_no: int) -> call201.TransactionEvent:
        return call201.TransactionEvent(
            event_type=kind,
            timestamp=NOW,
            trigger_reason="Authorized",
            seq_no=seq_no,
            transaction_info={"transactionId": "T-1"},
            evse={"id": 1},
        )

    events = Events()
    system, store = await start_system(db_path, events)
    async with station201(system, "CS1") as cs:
        await cs.call(event("Started", 0), suppress=False)
        await system.stop()
    store.close()

    events = Events()
    system, store = await start_system(db_path, events)
    try:
        async with station201(system, "CS1") as cs:
            await cs.call(event("Updated", 1), suppress=False)
            await cs.call(event("Ended", 2), suppress=False)
            ended = await events.wait_for(SessionEnded)
            assert (ended.transaction_id, ended.connector_id) == ("T-1", 1)
        assert len(store.list_transactions(charger_id="CS1")) == 1
    finally:
        await system.stop()
        store.close()
