"""Grouped writes on a real SQLite file: one transaction until `commit_group`, seen by
another connection only then; a part that fails takes only itself back."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.storage import Registration, SqliteStore

AT = datetime(2026, 12, 6, 12, tzinfo=UTC)


def committed_chargers(path: Path) -> int:
    with sqlite3.connect(path) as other:
        return int(other.execute("SELECT COUNT(*) FROM chargers").fetchone()[0])


def test_grouped_writes_are_committed_together(tmp_path: Path) -> None:
    path = tmp_path / "grouped.sqlite"
    store = SqliteStore(path)
    opened: list[int] = []
    store.group_writes(lambda: opened.append(1))
    store.add_charger("CP1", Registration.ACCEPTED)
    store.add_charger("CP2", Registration.ACCEPTED)
    assert opened == [1], "one group for both writes"
    assert store.uncommitted
    assert store.get_charger("CP2") is not None, "the store reads its own writes"
    assert committed_chargers(path) == 0

    store.commit_group()
    assert not store.uncommitted
    assert committed_chargers(path) == 2

    store.add_charger("CP3", Registration.ACCEPTED)
    store.group_writes(None)  # commits what is open; then a commit per write again
    assert committed_chargers(path) == 3
    store.add_charger("CP4", Registration.ACCEPTED)
    assert committed_chargers(path) == 4
    store.close()


def test_a_failing_part_takes_only_itself_back(tmp_path: Path) -> None:
    path = tmp_path / "grouped.sqlite"
    store = SqliteStore(path)
    store.group_writes(lambda: None)
    store.start_transaction("CP1", 1, AT, None, 0.0, ocpp_id="tx-1")
    store.add_charger("CP1", Registration.ACCEPTED)
    with pytest.raises(sqlite3.IntegrityError):
        store.start_transaction("CP1", 1, AT, None, 0.0, ocpp_id="tx-1")
    store.commit_group()
    assert store.get_charger("CP1") is not None
    assert len(store.list_transactions()) == 1
    assert committed_chargers(path) == 1
    store.close()
