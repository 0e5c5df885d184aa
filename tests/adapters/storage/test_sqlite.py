"""The SQLite store on a real file."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.storage import (
    Registration,
    SqliteStore,
    TokenRecord,
    TransactionState,
)
from ems.events import MeterSample

AT = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def test_file_is_in_wal_mode(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "s.sqlite").close()
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_transaction_ids_are_never_reused_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = SqliteStore(path)
    first = store.start_transaction("CP1", 1, AT, "TAG1", 0.0)
    second = store.start_transaction("CP1", 2, AT, None, None)
    store.close()

    store = SqliteStore(path)
    third = store.start_transaction("CP1", 1, AT, "TAG1", 10.0)
    assert len({first.id, second.id, third.id}) == 3
    assert third.id > second.id > first.id
    assert third.ocpp_id == str(third.id)
    opened = store.find_transaction("CP1", str(first.id))
    assert opened is not None
    assert (opened.state, opened.started_at, opened.id_token) == (TransactionState.OPEN, AT, "TAG1")
    store.stop_transaction(first.id, AT + timedelta(hours=1), 5000.0, "Local")
    stopped = store.get_transaction(first.id)
    assert stopped is not None
    assert (stopped.state, stopped.meter_stop_wh, stopped.stop_reason) == (
        TransactionState.STOPPED,
        5000.0,
        "Local",
    )
    assert [t.id for t in store.list_transactions(open_only=True)] == [third.id, second.id]
    store.close()


def test_stop_of_an_unknown_transaction_is_recorded_and_steers_no_id(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    first = store.start_transaction("CP1", 1, AT, None, None)
    orphan = store.record_orphan_stop("CP1", 1, str(first.id + 2), AT, 1234.0, "PowerLoss")
    assert orphan.state == TransactionState.ORPHAN
    assert store.find_transaction("CP1", orphan.ocpp_id) == orphan
    store.record_orphan_stop("CP2", 1, str(2**53 + 1), AT, None, None)

    later = [store.start_transaction("CP1", 1, AT, None, None) for _ in range(3)]

    assert orphan.ocpp_id not in [t.ocpp_id for t in later]
    assert all(first.id < t.id < first.id + 10 for t in later)
    assert [t.ocpp_id for t in later] == [str(t.id) for t in later]
    store.close()


def test_a_counter_steered_past_int32_by_an_older_version_comes_back(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = SqliteStore(path)
    issued = store.start_transaction("CP1", 1, AT, None, None)
    store.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE counters SET next_value = ? WHERE name = 'transactions'", (2**31 + 5,))
    db.execute(
        "INSERT INTO transactions (id, charger_id, connector_id, ocpp_id, state) "
        "VALUES (?, 'CP2', 1, ?, 'orphan')",
        (2**31 + 4, str(2**31 + 3)),
    )
    db.commit()
    db.close()

    store = SqliteStore(path)
    later = store.start_transaction("CP1", 1, AT, None, None)

    assert issued.id < later.id <= 2**31 - 1
    store.close()


def test_no_transaction_id_is_issued_past_int32(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    SqliteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO counters (name, next_value) VALUES ('transactions', ?)", (2**31 - 1,))
    db.commit()
    db.close()
    store = SqliteStore(path)

    assert store.start_transaction("CP1", 1, AT, None, None).id == 2**31 - 1
    with pytest.raises(RuntimeError, match="spent"):
        store.start_transaction("CP1", 1, AT, None, None)
    store.close()


def test_string_transaction_ids_of_201(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    record = store.start_transaction("CS1", 1, AT, None, None, ocpp_id="abc-1", seq_no=0)
    store.set_transaction_seq_no(record.id, 4)
    found = store.find_transaction("CS1", "abc-1")
    assert found is not None
    assert (found.id, found.last_seq_no) == (record.id, 4)
    assert store.find_transaction("CS2", "abc-1") is None
    store.close()


def test_chargers_connectors_and_tokens(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    store.add_charger("CP1", Registration.PENDING)
    store.record_boot("CP1", AT, "ocpp1.6", "Acme", "Wall", "S1", "1.0")
    store.set_capabilities("CP1", {"max_stack_level": 2})
    store.touch_charger("CP1", AT + timedelta(seconds=30))
    assert store.set_registration("CP1", Registration.ACCEPTED)
    assert not store.set_registration("NOPE", Registration.ACCEPTED)
    charger = store.get_charger("CP1")
    assert charger is not None
    assert (charger.registration, charger.vendor, charger.capabilities) == (
        Registration.ACCEPTED,
        "Acme",
        {"max_stack_level": 2},
    )
    assert charger.last_seen == AT + timedelta(seconds=30)

    store.set_connector_status("CP1", 1, "Charging", None, AT)
    store.set_connector_status("CP1", 1, "Faulted", "GroundFailure", AT)
    [connector] = store.list_connectors("CP1")
    assert (connector.status, connector.error_code) == ("Faulted", "GroundFailure")

    store.put_token(TokenRecord("TAG1", expiry=AT))
    store.add_token_if_absent(TokenRecord("TAG1", status="Invalid"))
    assert store.set_token_blocked("TAG1", True)
    assert store.get_token("TAG1") == TokenRecord("TAG1", "Accepted", AT, True)
    assert store.delete_token("TAG1")
    assert store.list_tokens() == []
    store.close()


def test_samples_profiles_events_and_operator_commands(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = SqliteStore(path)
    sample = MeterSample("CP1", 1, AT, "7", current_a=(1.0, 2.0, None), energy_wh=10.0)
    store.add_meter_samples([sample, sample], "Sample.Periodic")
    profile = store.record_profile_sent(
        "CP1", 1, "SetChargingProfile", "tx", "why", {"connectorId": 1}, AT
    )
    store.record_profile_answer(profile, "Rejected", "no tx", AT)
    store.log_event(AT, "CP1", "boot", {"vendor": "Acme"})
    command = store.queue_operator_command("CP1", "reset", {"hard": True}, AT)
    store.close()

    store = SqliteStore(path)
    store.add_meter_samples([sample], None)
    assert store.count_meter_samples("7") == 3
    [row] = store.list_profiles("CP1")
    assert (row.status, row.detail, row.payload) == ("Rejected", "no tx", {"connectorId": 1})
    assert store.list_events("CP1")[0].detail == {"vendor": "Acme"}
    [pending] = store.pending_operator_commands()
    assert (pending.id, pending.action, pending.arguments) == (command, "reset", {"hard": True})
    store.finish_operator_command(command, {"ok": True}, AT)
    assert store.pending_operator_commands() == []
    done = store.get_operator_command(command)
    assert done is not None
    assert done.result == {"ok": True}
    assert store.next_id("x") < store.next_id("x")
    store.close()


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "5", "null"])
def test_a_damaged_setting_reads_as_none_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    path = tmp_path / "store.sqlite"
    store = SqliteStore(path)
    try:
        store.put_setting("demand_peak", {"peak_w": 1.0}, AT)
        store.put_setting("site_limit_override", {"limit_a": 20.0}, AT)
        with sqlite3.connect(path) as db:
            db.execute("UPDATE settings SET value = ? WHERE name = 'demand_peak'", (text,))
        with caplog.at_level(logging.ERROR):
            damaged = store.get_setting("demand_peak")
        kept = store.get_setting("site_limit_override")
    finally:
        store.close()

    assert damaged is None
    assert "setting demand_peak is not a JSON object" in caplog.text
    assert kept == {"limit_a": 20.0}
