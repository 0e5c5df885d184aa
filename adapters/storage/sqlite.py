"""The store on one SQLite file.

WAL journal with `synchronous=NORMAL`: a commit is an append to the WAL, so every write
can be committed before the charger is answered and still cost tens of microseconds. A
process crash loses nothing committed; a power cut may lose the last commits. The central
system commits all the writes behind one message at once, before it answers
(`group_writes`, `adapters.storage.group_commit`).

The schema ports to PostgreSQL as written: plain column types, explicit integer ids,
times as ISO-8601 UTC text (`2024-05-01T12:00:00.000000Z`), JSON as text, booleans as
0/1 integers, `INSERT ... ON CONFLICT` upserts. Ids come from the `counters` table (rows
that are never deleted, so an id is never handed out twice — also after a restart) or, for
tables only the running server writes, from the highest id read at open.

Calls are synchronous and meant for the event loop thread of one server process; the
operator CLI opens the same file from another process (SQLite serialises the writers).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.storage.records import (
    ChargerRecord,
    ConnectorRecord,
    EventRecord,
    OperatorCommand,
    OperatorCommandState,
    ProfileRecord,
    RecalledProfile,
    TokenRecord,
    TransactionEventRecord,
    TransactionRecord,
    TransactionState,
)
from ems.events import MeterSample

LOG = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    next_value BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS chargers (
    charger_id TEXT PRIMARY KEY,
    registration TEXT NOT NULL,
    vendor TEXT,
    model TEXT,
    serial TEXT,
    firmware TEXT,
    protocol TEXT,
    capabilities TEXT,
    password_hash TEXT,
    firmware_status TEXT,
    last_boot TEXT,
    last_seen TEXT
);
CREATE TABLE IF NOT EXISTS connectors (
    charger_id TEXT NOT NULL,
    connector_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (charger_id, connector_id)
);
CREATE TABLE IF NOT EXISTS id_tokens (
    id_token TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    expiry TEXT,
    blocked INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
    id BIGINT PRIMARY KEY,
    charger_id TEXT NOT NULL,
    connector_id INTEGER NOT NULL,
    ocpp_id TEXT NOT NULL,
    state TEXT NOT NULL,
    id_token TEXT,
    started_at TEXT,
    meter_start_wh DOUBLE PRECISION,
    stopped_at TEXT,
    meter_stop_wh DOUBLE PRECISION,
    stop_reason TEXT,
    last_seq_no INTEGER,
    UNIQUE (charger_id, ocpp_id)
);
CREATE INDEX IF NOT EXISTS transactions_state ON transactions (state);
CREATE TABLE IF NOT EXISTS meter_samples (
    id BIGINT PRIMARY KEY,
    charger_id TEXT NOT NULL,
    connector_id INTEGER NOT NULL,
    transaction_id TEXT,
    at TEXT NOT NULL,
    context TEXT,
    power_w DOUBLE PRECISION,
    energy_wh DOUBLE PRECISION,
    current_l1_a DOUBLE PRECISION,
    current_l2_a DOUBLE PRECISION,
    current_l3_a DOUBLE PRECISION,
    voltage_l1_v DOUBLE PRECISION,
    voltage_l2_v DOUBLE PRECISION,
    voltage_l3_v DOUBLE PRECISION,
    soc_pct DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS meter_samples_transaction
    ON meter_samples (charger_id, transaction_id);
CREATE TABLE IF NOT EXISTS transaction_events (
    id BIGINT PRIMARY KEY,
    charger_id TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    seq_no BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    at TEXT NOT NULL,
    trigger_reason TEXT,
    received_at TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transaction_events_of
    ON transaction_events (charger_id, transaction_id, seq_no);
CREATE TABLE IF NOT EXISTS profiles (
    id BIGINT PRIMARY KEY,
    charger_id TEXT NOT NULL,
    connector_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    purpose TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    status TEXT,
    detail TEXT,
    answered_at TEXT,
    command TEXT
);
CREATE INDEX IF NOT EXISTS profiles_slot ON profiles (charger_id, connector_id, purpose, id);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    charger_id TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS operator_commands (
    id BIGINT PRIMARY KEY,
    charger_id TEXT NOT NULL,
    action TEXT NOT NULL,
    arguments TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    state TEXT NOT NULL,
    result TEXT,
    done_at TEXT
);
CREATE INDEX IF NOT EXISTS operator_commands_state ON operator_commands (state);
"""

_ADDED_COLUMNS = (("profiles", "command", "TEXT"),)

TRANSACTION_COUNTER = "transactions"
MAX_TRANSACTION_ID = 2**31 - 1
"""OCPP 1.6 transaction ids are `integer`; chargers keep them in an int32."""

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

_RECALL_PER_SLOT = 50
"""Profiles read back per connector and purpose at start: the newest accepted one and
what was sent after it; a charger refusing for days leaves no more than this to read."""


def to_text(at: datetime | None) -> str | None:
    """An aware datetime as fixed-width UTC text (sorts as it should)."""
    if at is None:
        return None
    return at.astimezone(UTC).strftime(_TIME_FORMAT)


def from_text(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)


def _at(text: str) -> datetime:
    """A NOT NULL time column."""
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def _unjson(text: str | None) -> dict[str, Any] | None:
    return None if text is None else json.loads(text)


_TRANSACTION_COLUMNS = (
    "id, charger_id, connector_id, ocpp_id, state, started_at, id_token, meter_start_wh, "
    "stopped_at, meter_stop_wh, stop_reason, last_seq_no"
)


def _transaction(row: sqlite3.Row) -> TransactionRecord:
    return TransactionRecord(
        id=row[0],
        charger_id=row[1],
        connector_id=row[2],
        ocpp_id=row[3],
        state=row[4],
        started_at=from_text(row[5]),
        id_token=row[6],
        meter_start_wh=row[7],
        stopped_at=from_text(row[8]),
        meter_stop_wh=row[9],
        stop_reason=row[10],
        last_seq_no=row[11],
    )


_EVENT_COLUMNS = (
    "id, charger_id, transaction_id, seq_no, event_type, payload, at, trigger_reason, received_at"
)


def _event_key(event: TransactionEventRecord) -> tuple[str, str, int, str, str]:
    """What makes a stored TransactionEvent the same one again (a resend): the same
    request, to the letter. Its content decides, not its parsed time: a station whose
    clock is not set has its timestamp replaced by the time each copy came."""
    return (
        event.charger_id,
        event.transaction_id,
        event.seq_no,
        event.event_type,
        json.dumps(event.payload, sort_keys=True, separators=(",", ":")),
    )


_CHARGER_COLUMNS = (
    "charger_id, registration, vendor, model, serial, firmware, protocol, capabilities, "
    "password_hash, firmware_status, last_boot, last_seen"
)


def _charger(row: sqlite3.Row) -> ChargerRecord:
    return ChargerRecord(
        charger_id=row[0],
        registration=row[1],
        vendor=row[2],
        model=row[3],
        serial=row[4],
        firmware=row[5],
        protocol=row[6],
        capabilities=_unjson(row[7]),
        password_hash=row[8],
        firmware_status=row[9],
        last_boot=from_text(row[10]),
        last_seen=from_text(row[11]),
    )


def _token(row: sqlite3.Row) -> TokenRecord:
    return TokenRecord(
        id_token=row[0], status=row[1], expiry=from_text(row[2]), blocked=bool(row[3])
    )


def _command(row: sqlite3.Row) -> OperatorCommand:
    return OperatorCommand(
        id=row[0],
        charger_id=row[1],
        action=row[2],
        arguments=json.loads(row[3]),
        requested_at=_at(row[4]),
        state=row[5],
        result=_unjson(row[6]),
        done_at=from_text(row[7]),
    )


class SqliteStore:
    """`adapters.storage.repository.Store` on a SQLite file (created if missing)."""

    def __init__(self, path: Path | str, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(
            self.path, isolation_level=None, timeout=busy_timeout_s, cached_statements=256
        )
        self._on_group_open: Callable[[], None] | None = None
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._transaction():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._add_missing_columns()
            self._bring_back_steered_counter()
        self._next_row_id = {
            table: self._max_id(table) + 1
            for table in ("meter_samples", "profiles", "events", "transaction_events")
        }

    def close(self) -> None:
        self.commit_group()
        self._db.close()

    def _add_missing_columns(self) -> None:
        """Columns added since a store was first created (`CREATE TABLE IF NOT EXISTS`
        leaves an existing table as it was)."""
        for table, column, kind in _ADDED_COLUMNS:
            names = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in names:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    # grouped commits

    def group_writes(self, on_open: Callable[[], None] | None) -> None:
        """With `on_open`, writes gather in one open transaction until `commit_group`
        (`on_open` is called as it opens: whoever calls it must see it committed soon).
        With None, what is open is committed and every write commits on its own again."""
        if on_open is None and self._db.in_transaction:
            self.commit_group()
        self._on_group_open = on_open

    @property
    def uncommitted(self) -> bool:
        """Whether writes are waiting in an open group."""
        return self._db.in_transaction

    def commit_group(self) -> None:
        """Commit the open group, if any; on failure it is rolled back and the error
        raised (none of its writes is then in the store)."""
        if not self._db.in_transaction:
            return
        try:
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def _open_group(self) -> None:
        if self._on_group_open is not None and not self._db.in_transaction:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._on_group_open()
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _write(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        """One writing statement: committed at once, or joining the open group."""
        self._open_group()
        return self._db.execute(sql, parameters)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """Writes that stand or fall together: their own transaction, or a savepoint
        within the open group."""
        self._open_group()
        if self._db.in_transaction:
            self._db.execute("SAVEPOINT part")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK TO part")
                self._db.execute("RELEASE part")
                raise
            self._db.execute("RELEASE part")
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _max_id(self, table: str) -> int:
        row = self._db.execute(f"SELECT MAX(id) FROM {table}").fetchone()
        return int(row[0] or 0)

    def _row_id(self, table: str) -> int:
        value = self._next_row_id[table]
        self._next_row_id[table] = value + 1
        return value

    def _next_counter(self, name: str) -> int:
        """Take the next value of a counter; call inside a transaction."""
        row = self._db.execute("SELECT next_value FROM counters WHERE name = ?", (name,)).fetchone()
        value = int(row[0]) if row else 1
        self._write(
            "INSERT INTO counters (name, next_value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET next_value = excluded.next_value",
            (name, value + 1),
        )
        return value

    def _next_wire_id(self, charger_id: str) -> int:
        """The next id to issue as an OCPP 1.6 transaction id; call inside a transaction.

        The shared counter alone decides it, never an id a charger sent; a value that
        charger already holds (a stop it sent for an id it made up) is skipped.
        """
        while True:
            value = self._next_counter(TRANSACTION_COUNTER)
            if value > MAX_TRANSACTION_ID:
                raise RuntimeError(f"transaction ids are spent (next would be {value})")
            taken = self._db.execute(
                "SELECT 1 FROM transactions WHERE charger_id = ? AND ocpp_id = ?",
                (charger_id, str(value)),
            ).fetchone()
            if taken is None:
                return value

    def _bring_back_steered_counter(self) -> None:
        """Earlier versions moved the transaction counter past any integer id a charger
        sent in a StopTransaction, beyond int32 even: go on above the highest id this
        store holds within int32."""
        row = self._db.execute(
            "SELECT next_value FROM counters WHERE name = ?", (TRANSACTION_COUNTER,)
        ).fetchone()
        if row is None or int(row[0]) <= MAX_TRANSACTION_ID:
            return
        highest = self._db.execute(
            "SELECT MAX(id) FROM transactions WHERE id <= ?", (MAX_TRANSACTION_ID,)
        ).fetchone()[0]
        self._write(
            "UPDATE counters SET next_value = ? WHERE name = ?",
            (int(highest or 0) + 1, TRANSACTION_COUNTER),
        )
        LOG.warning(
            "store %s: the transaction counter stood at %s, past the int32 ids OCPP 1.6 "
            "chargers take; it continues from %s",
            self.path,
            row[0],
            int(highest or 0) + 1,
        )

    def next_id(self, name: str) -> int:
        with self._transaction():
            return self._next_counter(name)

    # chargers

    def get_charger(self, charger_id: str) -> ChargerRecord | None:
        row = self._db.execute(
            f"SELECT {_CHARGER_COLUMNS} FROM chargers WHERE charger_id = ?", (charger_id,)
        ).fetchone()
        return _charger(row) if row else None

    def list_chargers(self) -> list[ChargerRecord]:
        rows = self._db.execute(f"SELECT {_CHARGER_COLUMNS} FROM chargers ORDER BY charger_id")
        return [_charger(row) for row in rows]

    def add_charger(
        self, charger_id: str, registration: str, password_hash: str | None = None
    ) -> None:
        self._write(
            "INSERT INTO chargers (charger_id, registration, password_hash) VALUES (?, ?, ?) "
            "ON CONFLICT (charger_id) DO UPDATE SET registration = excluded.registration, "
            "password_hash = COALESCE(excluded.password_hash, chargers.password_hash)",
            (charger_id, registration, password_hash),
        )

    def set_registration(self, charger_id: str, registration: str) -> bool:
        cursor = self._write(
            "UPDATE chargers SET registration = ? WHERE charger_id = ?",
            (registration, charger_id),
        )
        return cursor.rowcount > 0

    def set_password_hash(self, charger_id: str, password_hash: str | None) -> None:
        self._write(
            "UPDATE chargers SET password_hash = ? WHERE charger_id = ?",
            (password_hash, charger_id),
        )

    def record_boot(
        self,
        charger_id: str,
        at: datetime,
        protocol: str,
        vendor: str | None,
        model: str | None,
        serial: str | None,
        firmware: str | None,
    ) -> None:
        self._write(
            "UPDATE chargers SET protocol = ?, vendor = ?, model = ?, serial = ?, firmware = ?,"
            " last_boot = ?, last_seen = ? WHERE charger_id = ?",
            (protocol, vendor, model, serial, firmware, to_text(at), to_text(at), charger_id),
        )

    def set_capabilities(self, charger_id: str, capabilities: dict[str, Any]) -> None:
        self._write(
            "UPDATE chargers SET capabilities = ? WHERE charger_id = ?",
            (_json(capabilities), charger_id),
        )

    def set_firmware_status(self, charger_id: str, status: str) -> None:
        self._write(
            "UPDATE chargers SET firmware_status = ? WHERE charger_id = ?", (status, charger_id)
        )

    def touch_charger(self, charger_id: str, at: datetime) -> None:
        self._write(
            "UPDATE chargers SET last_seen = ? WHERE charger_id = ?", (to_text(at), charger_id)
        )

    # connectors

    def set_connector_status(
        self,
        charger_id: str,
        connector_id: int,
        status: str,
        error_code: str | None,
        at: datetime,
    ) -> None:
        self._write(
            "INSERT INTO connectors (charger_id, connector_id, status, error_code, updated_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (charger_id, connector_id) DO UPDATE SET "
            "status = excluded.status, error_code = excluded.error_code, "
            "updated_at = excluded.updated_at",
            (charger_id, connector_id, status, error_code, to_text(at)),
        )

    def list_connectors(self, charger_id: str | None = None) -> list[ConnectorRecord]:
        sql = "SELECT charger_id, connector_id, status, error_code, updated_at FROM connectors"
        params: tuple[Any, ...] = ()
        if charger_id is not None:
            sql += " WHERE charger_id = ?"
            params = (charger_id,)
        rows = self._db.execute(sql + " ORDER BY charger_id, connector_id", params)
        return [ConnectorRecord(r[0], r[1], r[2], r[3], _at(r[4])) for r in rows]

    # id tokens

    def get_token(self, id_token: str) -> TokenRecord | None:
        row = self._db.execute(
            "SELECT id_token, status, expiry, blocked FROM id_tokens WHERE id_token = ?",
            (id_token,),
        ).fetchone()
        return _token(row) if row else None

    def put_token(self, token: TokenRecord) -> None:
        self._write(
            "INSERT INTO id_tokens (id_token, status, expiry, blocked) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id_token) DO UPDATE SET status = excluded.status, "
            "expiry = excluded.expiry, blocked = excluded.blocked",
            (token.id_token, token.status, to_text(token.expiry), int(token.blocked)),
        )

    def add_token_if_absent(self, token: TokenRecord) -> None:
        self._write(
            "INSERT INTO id_tokens (id_token, status, expiry, blocked) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (id_token) DO NOTHING",
            (token.id_token, token.status, to_text(token.expiry), int(token.blocked)),
        )

    def set_token_blocked(self, id_token: str, blocked: bool) -> bool:
        cursor = self._write(
            "UPDATE id_tokens SET blocked = ? WHERE id_token = ?", (int(blocked), id_token)
        )
        return cursor.rowcount > 0

    def delete_token(self, id_token: str) -> bool:
        cursor = self._write("DELETE FROM id_tokens WHERE id_token = ?", (id_token,))
        return cursor.rowcount > 0

    def list_tokens(self) -> list[TokenRecord]:
        rows = self._db.execute(
            "SELECT id_token, status, expiry, blocked FROM id_tokens ORDER BY id_token"
        )
        return [_token(row) for row in rows]

    # transactions

    def start_transaction(
        self,
        charger_id: str,
        connector_id: int,
        started_at: datetime,
        id_token: str | None,
        meter_start_wh: float | None,
        ocpp_id: str | None = None,
        seq_no: int | None = None,
    ) -> TransactionRecord:
        with self._transaction():
            if ocpp_id is None:
                transaction_id = self._next_wire_id(charger_id)
                wire_id = str(transaction_id)
            else:
                transaction_id = self._next_counter(TRANSACTION_COUNTER)
                wire_id = ocpp_id
            self._write(
                f"INSERT INTO transactions ({_TRANSACTION_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?)",
                (
                    transaction_id,
                    charger_id,
                    connector_id,
                    wire_id,
                    TransactionState.OPEN,
                    to_text(started_at),
                    id_token,
                    meter_start_wh,
                    seq_no,
                ),
            )
        return TransactionRecord(
            id=transaction_id,
            charger_id=charger_id,
            connector_id=connector_id,
            ocpp_id=wire_id,
            state=TransactionState.OPEN,
            started_at=started_at,
            id_token=id_token,
            meter_start_wh=meter_start_wh,
            last_seq_no=seq_no,
        )

    def find_transaction(self, charger_id: str, ocpp_id: str) -> TransactionRecord | None:
        row = self._db.execute(
            f"SELECT {_TRANSACTION_COLUMNS} FROM transactions WHERE charger_id = ? AND ocpp_id = ?",
            (charger_id, ocpp_id),
        ).fetchone()
        return _transaction(row) if row else None

    def get_transaction(self, transaction_id: int) -> TransactionRecord | None:
        row = self._db.execute(
            f"SELECT {_TRANSACTION_COLUMNS} FROM transactions WHERE id = ?", (transaction_id,)
        ).fetchone()
        return _transaction(row) if row else None

    def set_transaction_seq_no(self, transaction_id: int, seq_no: int) -> None:
        self._write(
            "UPDATE transactions SET last_seq_no = ? WHERE id = ?", (seq_no, transaction_id)
        )

    def record_transaction_start(
        self, transaction_id: int, started_at: datetime, id_token: str | None
    ) -> None:
        self._write(
            "UPDATE transactions SET started_at = ?, id_token = COALESCE(?, id_token), "
            "state = CASE WHEN state = ? THEN ? ELSE state END WHERE id = ?",
            (
                to_text(started_at),
                id_token,
                TransactionState.ORPHAN,
                TransactionState.STOPPED,
                transaction_id,
            ),
        )

    def set_transaction_energy(
        self, transaction_id: int, meter_start_wh: float | None, meter_stop_wh: float | None
    ) -> None:
        self._write(
            "UPDATE transactions SET meter_start_wh = ?, meter_stop_wh = ? WHERE id = ?",
            (meter_start_wh, meter_stop_wh, transaction_id),
        )

    def stop_transaction(
        self,
        transaction_id: int,
        stopped_at: datetime,
        meter_stop_wh: float | None,
        reason: str | None,
    ) -> None:
        self._write(
            "UPDATE transactions SET state = ?, stopped_at = ?, meter_stop_wh = ?, "
            "stop_reason = ? WHERE id = ?",
            (TransactionState.STOPPED, to_text(stopped_at), meter_stop_wh, reason, transaction_id),
        )

    def record_orphan_stop(
        self,
        charger_id: str,
        connector_id: int,
        ocpp_id: str,
        stopped_at: datetime,
        meter_stop_wh: float | None,
        reason: str | None,
    ) -> TransactionRecord:
        with self._transaction():
            # Our own row id: the charger's id steers nothing (`_next_wire_id` skips it).
            transaction_id = self._next_counter(TRANSACTION_COUNTER)
            self._write(
                f"INSERT INTO transactions ({_TRANSACTION_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?, ?, NULL)",
                (
                    transaction_id,
                    charger_id,
                    connector_id,
                    ocpp_id,
                    TransactionState.ORPHAN,
                    to_text(stopped_at),
                    meter_stop_wh,
                    reason,
                ),
            )
        return TransactionRecord(
            id=transaction_id,
            charger_id=charger_id,
            connector_id=connector_id,
            ocpp_id=ocpp_id,
            state=TransactionState.ORPHAN,
            started_at=None,
            stopped_at=stopped_at,
            meter_stop_wh=meter_stop_wh,
            stop_reason=reason,
        )

    def list_transactions(
        self, open_only: bool = False, charger_id: str | None = None, limit: int = 100
    ) -> list[TransactionRecord]:
        clauses: list[str] = []
        params: list[Any] = []
        if open_only:
            clauses.append("state = ?")
            params.append(TransactionState.OPEN)
        if charger_id is not None:
            clauses.append("charger_id = ?")
            params.append(charger_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.execute(
            f"SELECT {_TRANSACTION_COLUMNS} FROM transactions{where} ORDER BY id DESC LIMIT ?",
            (*params, limit),
        )
        return [_transaction(row) for row in rows]

    # transaction events (OCPP 2.0.1)

    def add_transaction_event(self, event: TransactionEventRecord) -> None:
        self._write(
            f"INSERT INTO transaction_events ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self._row_id("transaction_events"),
                *_event_key(event),
                to_text(event.at),
                event.trigger_reason,
                to_text(event.received_at),
            ),
        )

    def has_transaction_event(self, event: TransactionEventRecord) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM transaction_events WHERE charger_id = ? AND transaction_id = ? "
            "AND seq_no = ? AND event_type = ? AND payload = ?",
            _event_key(event),
        ).fetchone()
        return row is not None

    def list_transaction_events(
        self, charger_id: str, transaction_id: str
    ) -> list[TransactionEventRecord]:
        rows = self._db.execute(
            f"SELECT {_EVENT_COLUMNS} FROM transaction_events WHERE charger_id = ? "
            "AND transaction_id = ? ORDER BY seq_no, at, id",
            (charger_id, transaction_id),
        )
        return [
            TransactionEventRecord(
                charger_id=r[1],
                transaction_id=r[2],
                seq_no=r[3],
                event_type=r[4],
                payload=json.loads(r[5]),
                at=_at(r[6]),
                trigger_reason=r[7],
                received_at=_at(r[8]),
            )
            for r in rows
        ]

    def transaction_seq_nos(self, charger_id: str, transaction_id: str) -> list[int]:
        rows = self._db.execute(
            "SELECT seq_no FROM transaction_events WHERE charger_id = ? AND transaction_id = ? "
            "ORDER BY seq_no",
            (charger_id, transaction_id),
        )
        return [int(row[0]) for row in rows]

    # meter samples

    def add_meter_samples(self, samples: Sequence[MeterSample], context: str | None) -> None:
        rows = [
            (
                self._row_id("meter_samples"),
                s.charger_id,
                s.connector_id,
                s.transaction_id,
                to_text(s.at),
                context,
                s.power_w,
                s.energy_wh,
                *s.current_a,
                *s.voltage_v,
                s.soc_pct,
            )
            for s in samples
        ]
        if not rows:
            return
        with self._transaction():
            self._db.executemany(
                "INSERT INTO meter_samples (id, charger_id, connector_id, transaction_id, at, "
                "context, power_w, energy_wh, current_l1_a, current_l2_a, current_l3_a, "
                "voltage_l1_v, voltage_l2_v, voltage_l3_v, soc_pct) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def count_meter_samples(self, transaction_id: str | None = None) -> int:
        if transaction_id is None:
            row = self._db.execute("SELECT COUNT(*) FROM meter_samples").fetchone()
        else:
            row = self._db.execute(
                "SELECT COUNT(*) FROM meter_samples WHERE transaction_id = ?", (transaction_id,)
            ).fetchone()
        return int(row[0])

    def transaction_register_wh(
        self, charger_id: str, transaction_id: str, context: str, latest: bool
    ) -> float | None:
        order = "DESC" if latest else "ASC"
        row = self._db.execute(
            "SELECT energy_wh FROM meter_samples WHERE charger_id = ? AND transaction_id = ? "
            "AND energy_wh IS NOT NULL "
            f"ORDER BY CASE WHEN context = ? THEN 0 ELSE 1 END, at {order}, id {order} LIMIT 1",
            (charger_id, transaction_id, context),
        ).fetchone()
        return None if row is None else float(row[0])

    # profiles

    def record_profile_sent(
        self,
        charger_id: str,
        connector_id: int,
        action: str,
        purpose: str,
        reason: str,
        payload: dict[str, Any],
        at: datetime,
        command: dict[str, Any] | None = None,
    ) -> int:
        profile_id = self._row_id("profiles")
        self._write(
            "INSERT INTO profiles (id, charger_id, connector_id, action, purpose, reason, "
            "payload, sent_at, command) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                profile_id,
                charger_id,
                connector_id,
                action,
                purpose,
                reason,
                _json(payload),
                to_text(at),
                _json(command),
            ),
        )
        return profile_id

    def record_profile_answer(
        self, profile_id: int, status: str, detail: str | None, at: datetime
    ) -> None:
        self._write(
            "UPDATE profiles SET status = ?, detail = ?, answered_at = ? WHERE id = ?",
            (status, detail, to_text(at), profile_id),
        )

    def recall_profiles(self) -> list[RecalledProfile]:
        """Per connector and purpose, oldest first: the newest profile the charger
        accepted and every one sent after it — what it may still be enforcing."""
        rows = self._db.execute(
            "SELECT p.charger_id, p.connector_id, p.purpose, p.command, p.sent_at, p.status, "
            "p.answered_at FROM profiles p WHERE p.action = 'SetChargingProfile' "
            "AND p.command IS NOT NULL AND p.id >= COALESCE((SELECT MAX(a.id) FROM profiles a "
            "WHERE a.charger_id = p.charger_id AND a.connector_id = p.connector_id "
            "AND a.purpose = p.purpose AND a.status = 'Accepted' AND a.command IS NOT NULL), 0) "
            "ORDER BY p.id"
        ).fetchall()
        per_slot: dict[tuple[str, int, str], list[RecalledProfile]] = {}
        for row in rows:
            recalled = RecalledProfile(
                charger_id=row[0],
                connector_id=row[1],
                purpose=row[2],
                command=json.loads(row[3]),
                sent_at=_at(row[4]),
                status=row[5],
                answered_at=from_text(row[6]),
            )
            per_slot.setdefault((row[0], row[1], row[2]), []).append(recalled)
        return [p for slot in per_slot.values() for p in slot[-_RECALL_PER_SLOT:]]

    # settings an operator changes at run time

    def put_setting(self, name: str, value: dict[str, Any], at: datetime) -> None:
        self._write(
            "INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            (name, _json(value), to_text(at)),
        )

    def get_setting(self, name: str) -> dict[str, Any] | None:
        """The setting's value; None when there is none, or when what is stored is not a
        JSON object (logged, naming the setting): a damaged setting must not keep the
        controller from starting."""
        row = self._db.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        if row is None or row[0] is None:
            return None
        try:
            value = json.loads(row[0])
        except ValueError:
            value = None
        if not isinstance(value, dict):
            LOG.error("store: setting %s is not a JSON object (%.200r); ignored", name, row[0])
            return None
        return value

    def delete_setting(self, name: str) -> None:
        self._write("DELETE FROM settings WHERE name = ?", (name,))

    def list_profiles(self, charger_id: str | None = None, limit: int = 100) -> list[ProfileRecord]:
        sql = (
            "SELECT id, charger_id, connector_id, action, purpose, reason, payload, sent_at, "
            "status, detail, answered_at FROM profiles"
        )
        params: tuple[Any, ...] = (limit,)
        if charger_id is not None:
            sql += " WHERE charger_id = ?"
            params = (charger_id, limit)
        rows = self._db.execute(sql + " ORDER BY id DESC LIMIT ?", params)
        return [
            ProfileRecord(
                id=r[0],
                charger_id=r[1],
                connector_id=r[2],
                action=r[3],
                purpose=r[4],
                reason=r[5],
                payload=json.loads(r[6]),
                sent_at=_at(r[7]),
                status=r[8],
                detail=r[9],
                answered_at=from_text(r[10]),
            )
            for r in rows
        ]

    # event log

    def log_event(
        self, at: datetime, charger_id: str | None, kind: str, detail: dict[str, Any]
    ) -> None:
        self._write(
            "INSERT INTO events (id, at, charger_id, kind, detail) VALUES (?, ?, ?, ?, ?)",
            (self._row_id("events"), to_text(at), charger_id, kind, _json(detail)),
        )

    def list_events(self, charger_id: str | None = None, limit: int = 100) -> list[EventRecord]:
        sql = "SELECT id, at, charger_id, kind, detail FROM events"
        params: tuple[Any, ...] = (limit,)
        if charger_id is not None:
            sql += " WHERE charger_id = ?"
            params = (charger_id, limit)
        rows = self._db.execute(sql + " ORDER BY id DESC LIMIT ?", params)
        return [EventRecord(r[0], _at(r[1]), r[2], r[3], json.loads(r[4])) for r in rows]

    # operator commands

    _COMMAND_COLUMNS = "id, charger_id, action, arguments, requested_at, state, result, done_at"

    def queue_operator_command(
        self, charger_id: str, action: str, arguments: dict[str, Any], at: datetime
    ) -> int:
        with self._transaction():
            command_id = self._next_counter("operator_commands")
            self._write(
                f"INSERT INTO operator_commands ({self._COMMAND_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)",
                (
                    command_id,
                    charger_id,
                    action,
                    _json(arguments),
                    to_text(at),
                    OperatorCommandState.QUEUED,
                ),
            )
        return command_id

    def pending_operator_commands(self) -> list[OperatorCommand]:
        rows = self._db.execute(
            f"SELECT {self._COMMAND_COLUMNS} FROM operator_commands WHERE state = ? ORDER BY id",
            (OperatorCommandState.QUEUED,),
        )
        return [_command(row) for row in rows]

    def finish_operator_command(
        self, command_id: int, result: dict[str, Any], at: datetime
    ) -> None:
        self._write(
            "UPDATE operator_commands SET state = ?, result = ?, done_at = ? WHERE id = ?",
            (OperatorCommandState.DONE, _json(result), to_text(at), command_id),
        )

    def get_operator_command(self, command_id: int) -> OperatorCommand | None:
        row = self._db.execute(
            f"SELECT {self._COMMAND_COLUMNS} FROM operator_commands WHERE id = ?", (command_id,)
        ).fetchone()
        return _command(row) if row else None
