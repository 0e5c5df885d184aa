"""OCPP 2.0.1 transactions over a real WebSocket into a real SQLite file: the energy of a
session from its TransactionEvents, and every event kept whatever order it arrives in."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ocpp.v201 import call as call201

from adapters.cli.main import cli
from adapters.ocpp import CentralSystem
from adapters.ocpp.sessions import opened_gap
from adapters.storage import SqliteStore, TransactionState
from ems.events import SessionEnded, SessionStarted
from tests.adapters.ocpp.stations import Events, make_settings, station201

BEGIN, PERIODIC, END = "Transaction.Begin", "Sample.Periodic", "Transaction.End"


def reading(energy_wh: float, context: str, at: str) -> dict[str, Any]:
    """One meterValue with the energy register, in kWh as many stations send it."""
    return {
        "timestamp": at,
        "sampledValue": [
            {
                "value": energy_wh / 1000,
                "context": context,
                "measurand": "Energy.Active.Import.Register",
                "unitOfMeasure": {"unit": "kWh"},
            }
        ],
    }


def event(
    kind: str, seq_no: int, at: str, transaction_id: str = "tx-1", **extra: Any
) -> call201.TransactionEvent:
    info: dict[str, Any] = {"transactionId": transaction_id}
    if kind == "Ended":
        info["stoppedReason"] = "EVDisconnected"
    return call201.TransactionEvent(
        event_type=kind,
        timestamp=at,
        trigger_reason="EVCommunicationLost" if kind == "Ended" else "MeterValuePeriodic",
        seq_no=seq_no,
        transaction_info=info,
        **extra,
    )


T0, T1, T2, T3 = (f"2024-05-01T12:0{m}:00Z" for m in (0, 1, 2, 3))


async def test_energy_of_a_session_from_its_begin_and_end_readings(
    system: CentralSystem, store: SqliteStore, events: Events, db_path: Path
) -> None:
    async with station201(system, "CS1") as cs:
        await cs.call(
            event(
                "Started",
                0,
                T0,
                evse={"id": 1, "connectorId": 1},
                id_token={"idToken": "TAG1", "type": "ISO14443"},
                meter_value=[reading(1000, BEGIN, T0)],
            ),
            suppress=False,
        )
        started = await events.wait_for(SessionStarted)
        await cs.call(event("Updated", 1, T1, meter_value=[reading(3000, PERIODIC, T1)]))
        await cs.call(
            event(
                "Ended",
                2,
                T2,
                meter_value=[reading(3200, PERIODIC, T2), reading(5500, END, T2)],
            ),
            suppress=False,
        )
        ended = await events.wait_for(SessionEnded)

    assert started.meter_start_wh == 1000.0
    assert ended.meter_stop_wh == 5500.0
    record = store.find_transaction("CS1", "tx-1")
    assert record is not None
    assert (record.meter_start_wh, record.meter_stop_wh) == (1000.0, 5500.0)
    listing = CliRunner().invoke(cli, ["sessions", "--db", str(db_path)])
    [row] = listing.output.splitlines()[1:]
    assert row.split()[-1] == "4500"


async def test_without_begin_and_end_readings_the_first_and_last_readings_count(
    system: CentralSystem, store: SqliteStore, events: Events
) -> None:
    async with station201(system, "CS1") as cs:
        await cs.call(event("Started", 0, T0, evse={"id": 1}), suppress=False)
        await cs.call(event("Updated", 1, T1, meter_value=[reading(2000, PERIODIC, T1)]))
        await cs.call(event("Updated", 2, T2, meter_value=[reading(2600, PERIODIC, T2)]))
        await cs.call(event("Ended", 3, T3), suppress=False)
        ended = await events.wait_for(SessionEnded)

    assert ended.meter_stop_wh == 2600.0
    record = store.find_transaction("CS1", "tx-1")
    assert record is not None
    assert (record.meter_start_wh, record.meter_stop_wh) == (2000.0, 2600.0)


async def test_an_ended_event_out_of_order_closes_the_transaction_for_good(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    events = Events()
    store = SqliteStore(db_path)
    system = CentralSystem(make_settings(), store, events)
    await system.start()
    try:
        async with station201(system, "CS1") as cs:
            await cs.call(event("Started", 0, T0, evse={"id": 1}), suppress=False)
            with caplog.at_level(logging.WARNING):
                await cs.call(event("Updated", 3, T2), suppress=False)
            # Ended carries a seqNo below the last one seen: a fact all the same.
            ended_event = event("Ended", 2, T3, meter_value=[reading(4000, END, T3)])
            await cs.call(ended_event, suppress=False)
            ended = await events.wait_for(SessionEnded)
            await cs.call(ended_event, suppress=False)  # a resend: answered, not applied
    finally:
        await system.stop()
        store.close()

    assert (ended.transaction_id, ended.meter_stop_wh) == ("tx-1", 4000.0)
    assert len(events.of(SessionEnded)) == 1
    store = SqliteStore(db_path)
    try:
        assert store.list_transactions(open_only=True) == []
        record = store.find_transaction("CS1", "tx-1")
        assert record is not None
        assert (record.state, record.stopped_at, record.last_seq_no) == (
            TransactionState.STOPPED,
            datetime(2024, 5, 1, 12, 3, tzinfo=UTC),
            3,
        )
        stored = store.list_transaction_events("CS1", "tx-1")
        assert [(e.seq_no, e.event_type) for e in stored] == [
            (0, "Started"),
            (2, "Ended"),
            (3, "Updated"),
        ]
        [gap] = [e for e in store.list_events("CS1") if e.kind == "transaction_seq_gap"]
        assert gap.detail == {"transaction_id": "tx-1", "missing_from": 1, "missing_to": 2}
    finally:
        store.close()
    assert any("CS1" in r.getMessage() and "seqNo 1..2" in r.getMessage() for r in caplog.records)


async def test_a_started_event_arriving_late_gives_the_start_of_the_session(
    system: CentralSystem, store: SqliteStore, events: Events
) -> None:
    async with station201(system, "CS1") as cs:
        await cs.call(
            event("Updated", 1, T1, evse={"id": 1}, meter_value=[reading(2000, PERIODIC, T1)]),
            suppress=False,
        )
        await cs.call(
            event(
                "Started",
                0,
                T0,
                evse={"id": 1},
                id_token={"idToken": "TAG1", "type": "ISO14443"},
                meter_value=[reading(1500, BEGIN, T0)],
            ),
            suppress=False,
        )
        await cs.call(event("Ended", 2, T2, meter_value=[reading(2500, END, T2)]))
        await events.wait_for(SessionEnded)

    assert len(events.of(SessionStarted)) == 1
    record = store.find_transaction("CS1", "tx-1")
    assert record is not None
    assert (record.started_at, record.id_token) == (datetime(2024, 5, 1, 12, tzinfo=UTC), "TAG1")
    assert (record.meter_start_wh, record.meter_stop_wh) == (1500.0, 2500.0)
    assert [e.kind for e in store.list_events("CS1")].count("transaction_seq_gap") == 0


async def test_an_ended_event_before_any_other_stays_closed_when_the_rest_arrives(
    system: CentralSystem, store: SqliteStore, events: Events
) -> None:
    async with station201(system, "CS1") as cs:
        await cs.call(event("Ended", 1, T1, evse={"id": 1}), suppress=False)
        await cs.call(
            event("Started", 0, T0, evse={"id": 1}, meter_value=[reading(700, BEGIN, T0)]),
            suppress=False,
        )

    assert events.of(SessionStarted) == []
    record = store.find_transaction("CS1", "tx-1")
    assert record is not None
    assert (record.state, record.started_at, record.meter_start_wh) == (
        TransactionState.STOPPED,
        datetime(2024, 5, 1, 12, tzinfo=UTC),
        700.0,
    )


async def test_a_resend_from_a_station_whose_clock_is_not_set_is_applied_once(
    system: CentralSystem, store: SqliteStore, events: Events
) -> None:
    started = event(
        "Started", 0, "1970-01-01T00:00:05Z", evse={"id": 1}, meter_value=[reading(900, BEGIN, T0)]
    )
    async with station201(system, "CS1") as cs:
        await cs.call(started, suppress=False)
        await cs.call(started, suppress=False)

    assert len(events.of(SessionStarted)) == 1
    assert len(store.list_transaction_events("CS1", "tx-1")) == 1
    assert store.count_meter_samples("tx-1") == 1


@pytest.mark.parametrize(
    ("seen", "arrived", "gap"),
    [
        ([0, 1], 1, None),
        ([0, 1, 4], 4, (2, 3)),
        ([0, 3], 3, (1, 2)),
        ([2, 5], 2, (3, 4)),
        ([0, 1, 2, 3], 1, None),  # fills the middle of a gap noted before
        ([0, 2, 2], 2, None),  # a second event with a seqNo seen before
        ([7], 7, None),
    ],
)
def test_a_seq_no_gap_is_noted_where_it_opens(
    seen: list[int], arrived: int, gap: tuple[int, int] | None
) -> None:
    assert opened_gap(seen, arrived) == gap
