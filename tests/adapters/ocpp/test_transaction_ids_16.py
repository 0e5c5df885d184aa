"""OCPP 1.6 transaction ids are the central system's: int32, never steered by a charger."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from ocpp.v16 import call as call16

from adapters.ocpp import CentralSystem
from adapters.storage import SqliteStore, TransactionState
from tests.adapters.ocpp.stations import station16

NOW = "2024-05-01T12:00:00Z"
INT32_MAX = 2**31 - 1


async def start(cp: Any, connector_id: int = 1) -> int:
    started = await cp.call(
        call16.StartTransaction(
            connector_id=connector_id, id_tag="TAG1", meter_start=0, timestamp=NOW
        ),
        suppress=False,
    )
    return int(started.transaction_id)


@pytest.mark.parametrize("made_up_id", [INT32_MAX + 1, 2**53 + 1, INT32_MAX])
async def test_a_stop_for_a_made_up_id_is_answered_and_steers_no_id(
    system: CentralSystem,
    store: SqliteStore,
    caplog: pytest.LogCaptureFixture,
    made_up_id: int,
) -> None:
    async with station16(system, "CP1") as cp1, station16(system, "CP2") as cp2:
        before = await start(cp1)
        with caplog.at_level(logging.WARNING):
            answer = await cp2.call(
                call16.StopTransaction(
                    meter_stop=100, timestamp=NOW, transaction_id=made_up_id, id_tag="TAG1"
                ),
                suppress=False,
            )
        after = [await start(cp1, 2), await start(cp2)]

    assert answer.id_tag_info == {"status": "Accepted"}
    assert any(
        "CP2" in r.getMessage() and str(made_up_id) in r.getMessage() for r in caplog.records
    )
    assert all(before < issued <= before + 3 for issued in after), (before, after)
    orphan = store.find_transaction("CP2", str(made_up_id))
    assert orphan is not None
    assert (orphan.state, orphan.meter_stop_wh) == (TransactionState.ORPHAN, 100.0)


async def test_an_id_a_charger_made_up_is_never_issued_to_that_charger(
    system: CentralSystem, store: SqliteStore
) -> None:
    async with station16(system, "CP1") as cp:
        first = await start(cp)
        made_up = first + 2
        await cp.call(
            call16.StopTransaction(meter_stop=0, timestamp=NOW, transaction_id=made_up),
            suppress=False,
        )
        issued = [await start(cp, connector_id) for connector_id in (1, 2, 3)]

    assert made_up not in issued
    assert len(set(issued)) == 3
    assert all(first < i <= INT32_MAX for i in issued)
    assert len(store.list_transactions(open_only=True, charger_id="CP1")) == 4
