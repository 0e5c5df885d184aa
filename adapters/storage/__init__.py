"""Persistence: a small repository interface (`Store`) and its SQLite implementation.

    store = SqliteStore("ems.sqlite")   # creates the file and schema if missing
    record = store.start_transaction("CP1", 1, now, "TAG1", 0.0)

Records are plain frozen dataclasses (`adapters.storage.records`); times are aware UTC
datetimes. Every write method returns only once the write is committed, unless a
`GroupCommit` groups them (all the writes behind one message in one commit).
"""

from adapters.storage.group_commit import GroupCommit
from adapters.storage.records import (
    ChargerRecord,
    ConnectorRecord,
    EventRecord,
    OperatorCommand,
    ProfileRecord,
    Registration,
    TokenRecord,
    TransactionEventRecord,
    TransactionRecord,
    TransactionState,
)
from adapters.storage.repository import Store
from adapters.storage.sqlite import SqliteStore

__all__ = [
    "ChargerRecord",
    "ConnectorRecord",
    "EventRecord",
    "GroupCommit",
    "OperatorCommand",
    "ProfileRecord",
    "Registration",
    "SqliteStore",
    "Store",
    "TokenRecord",
    "TransactionEventRecord",
    "TransactionRecord",
    "TransactionState",
]
