"""Written before acknowledged, with all the writes behind a message in one commit: real
WebSockets on 127.0.0.1 and a real SQLite file, read from a second connection the moment
each answer arrives."""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from adapters.ocpp import CentralSystem
from adapters.storage import SqliteStore
from ems.commands import LimitPeriod, ProfilePurpose, SetLimit
from tests.adapters.ocpp.stations import Events, make_settings

NOW = "2026-12-06T12:00:00Z"
CHARGERS = 20
_ids = itertools.count()


class RawCharger:
    """A 1.6 charger speaking raw OCPP-J: one call at a time; the server's profiles are
    accepted (after `on_profile` looked at them), its other calls refused."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.on_profile: Callable[[dict[str, Any]], None] = lambda payload: None

    async def call(self, action: str, payload: dict[str, Any]) -> list[Any]:
        message_id = str(next(_ids))
        await self.ws.send(json.dumps([2, message_id, action, payload]))
        async with asyncio.timeout(10):
            while True:
                frame = json.loads(await self.ws.recv())
                if frame[1] == message_id:
                    return list(frame)
                if frame[0] == 2:
                    await self.answer(frame)

    async def serve(self) -> None:
        """Answer the server's calls until the connection closes."""
        async for raw in self.ws:
            frame = json.loads(raw)
            if frame[0] == 2:
                await self.answer(frame)

    async def answer(self, frame: list[Any]) -> None:
        if frame[2] == "SetChargingProfile":
            self.on_profile(frame[3])
            await self.ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))
        else:  # the capability probe
            await self.ws.send(json.dumps([4, frame[1], "NotImplemented", "", {}]))


@asynccontextmanager
async def chargers(system: CentralSystem, count: int) -> AsyncIterator[list[RawCharger]]:
    sockets = [
        await connect(f"ws://127.0.0.1:{system.port}/ocpp/GC{n:03d}", subprotocols=["ocpp1.6"])  # type: ignore[list-item]
        for n in range(count)
    ]
    try:
        made = [RawCharger(ws) for ws in sockets]
        for charger in made:
            boot = {"chargePointVendor": "V", "chargePointModel": "M"}
            assert (await charger.call("BootNotification", boot))[0] == 3
        yield made
    finally:
        for ws in sockets:
            await ws.close()


@pytest.fixture
async def grouped(store: SqliteStore, events: Events) -> AsyncIterator[CentralSystem]:
    settings = make_settings(unknown_chargers="accept", unknown_tokens="accept")
    system = CentralSystem(settings, store, events)
    await system.start()
    yield system
    await system.stop()


def counting_commits(store: SqliteStore) -> list[int]:
    """Count the commits that carried writes (one entry each)."""
    commits: list[int] = []
    commit = store.commit_group

    def counted() -> None:
        if store.uncommitted:
            commits.append(1)
        commit()

    store.commit_group = counted  # type: ignore[method-assign]
    return commits


def reader(db_path: Path) -> Callable[[str, tuple[Any, ...]], Any]:
    """A second connection to the file: it sees committed writes only."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, isolation_level=None)
    return lambda sql, params: db.execute(sql, params).fetchone()[0]


async def start_and_sample(charger: RawCharger, read: Callable[..., Any]) -> None:
    answer = await charger.call(
        "StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": NOW}
    )
    assert answer[0] == 3
    transaction_id = answer[2]["transactionId"]
    assert read("SELECT COUNT(*) FROM transactions WHERE id = ?", (transaction_id,)) == 1
    values = {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [
            {"timestamp": NOW, "sampledValue": [{"value": "1000", "unit": "Wh"}]},
        ],
    }
    assert (await charger.call("MeterValues", values))[0] == 3
    assert (
        read("SELECT COUNT(*) FROM meter_samples WHERE transaction_id = ?", (str(transaction_id),))
        == 1
    )


async def test_every_answer_comes_after_its_writes_are_committed(
    grouped: CentralSystem, store: SqliteStore, db_path: Path
) -> None:
    async with chargers(grouped, CHARGERS) as made:
        read = reader(db_path)
        await asyncio.gather(*(start_and_sample(charger, read) for charger in made))


async def test_a_message_that_writes_several_rows_costs_one_commit(
    grouped: CentralSystem, store: SqliteStore, db_path: Path
) -> None:
    """A StopTransaction with its transaction data: the samples, the stop and the events
    logged with it are committed together, before the answer."""
    async with chargers(grouped, 1) as (charger,):
        start = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": NOW}
        transaction_id = (await charger.call("StartTransaction", start))[2]["transactionId"]
        commits = counting_commits(store)
        sampled = [{"timestamp": NOW, "sampledValue": [{"value": "900", "unit": "Wh"}]}]
        stop = {
            "transactionId": transaction_id,
            "meterStop": 900,
            "timestamp": NOW,
            "transactionData": sampled,
        }
        assert (await charger.call("StopTransaction", stop))[0] == 3
        read = reader(db_path)
        assert read("SELECT state FROM transactions WHERE id = ?", (transaction_id,)) == "stopped"
        assert read("SELECT COUNT(*) FROM meter_samples", ()) == 1
        assert len(commits) == 1


async def test_a_failed_commit_is_answered_with_an_internal_error(
    grouped: CentralSystem, store: SqliteStore, db_path: Path
) -> None:
    """Nothing is acknowledged that is not in the store; the next message is served."""
    async with chargers(grouped, 1) as (charger,):
        commit = store.commit_group

        def failing() -> None:
            store.commit_group = commit  # type: ignore[method-assign]
            store._db.execute("ROLLBACK")  # what a failed COMMIT leaves behind
            raise sqlite3.OperationalError("disk I/O error")

        store.commit_group = failing  # type: ignore[method-assign]
        start = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": NOW}
        answer = await charger.call("StartTransaction", start)
        assert answer[:3] == [4, answer[1], "InternalError"]
        assert reader(db_path)("SELECT COUNT(*) FROM transactions", ()) == 0

        answer = await charger.call("StartTransaction", start)
        assert answer[0] == 3
        assert reader(db_path)("SELECT COUNT(*) FROM transactions", ()) == 1


async def test_profiles_are_recorded_before_they_are_sent(
    grouped: CentralSystem, store: SqliteStore, db_path: Path
) -> None:
    """A restarted controller must know what a charger may hold: each profile of a control
    step is committed before it goes out, its answer before the controller hears of it."""
    count = 5
    async with chargers(grouped, count) as made:
        read = reader(db_path)
        recorded_when_received: list[int] = []
        for n, charger in enumerate(made):
            charger.on_profile = lambda payload, cid=f"GC{n:03d}": recorded_when_received.append(
                read("SELECT COUNT(*) FROM profiles WHERE charger_id = ?", (cid,))
            )
        serving = [asyncio.get_running_loop().create_task(c.serve()) for c in made]
        limits = [
            SetLimit(
                charger_id=f"GC{n:03d}",
                connector_id=1,
                purpose=ProfilePurpose.TX_DEFAULT,
                periods=(LimitPeriod(0, 16.0),),
                start=datetime.now(UTC),
                reason="test",
            )
            for n in range(count)
        ]
        answers = await asyncio.gather(*(grouped.send(limit) for limit in limits))
        for task in serving:
            task.cancel()
    assert all(answer.accepted for answer in answers)
    assert recorded_when_received == [1] * count
    read = reader(db_path)
    assert read("SELECT COUNT(*) FROM profiles WHERE status = 'Accepted'", ()) == count
