"""The store as the OCPP central system and the operator CLI see it.

Every write is durable when the method returns, unless writes are grouped
(`group_writes`): then it is durable once the group is committed, and callers acknowledge
a transaction or a meter value to a charger only after that (`GroupCommit.durable`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from adapters.storage.records import (
    ChargerRecord,
    ConnectorRecord,
    EventRecord,
    OperatorCommand,
    ProfileRecord,
    RecalledProfile,
    TokenRecord,
    TransactionEventRecord,
    TransactionRecord,
)
from ems.events import MeterSample


class Store(Protocol):
    # grouped commits (see `adapters.storage.group_commit`)
    def group_writes(self, on_open: Callable[[], None] | None) -> None: ...
    @property
    def uncommitted(self) -> bool: ...
    def commit_group(self) -> None: ...

    # chargers
    def get_charger(self, charger_id: str) -> ChargerRecord | None: ...
    def list_chargers(self) -> list[ChargerRecord]: ...
    def add_charger(
        self, charger_id: str, registration: str, password_hash: str | None = None
    ) -> None:
        """Create the charger if absent; otherwise set its registration (and hash if given)."""
        ...

    def set_registration(self, charger_id: str, registration: str) -> bool: ...
    def set_password_hash(self, charger_id: str, password_hash: str | None) -> None: ...
    def record_boot(
        self,
        charger_id: str,
        at: datetime,
        protocol: str,
        vendor: str | None,
        model: str | None,
        serial: str | None,
        firmware: str | None,
    ) -> None: ...
    def set_capabilities(self, charger_id: str, capabilities: dict[str, Any]) -> None: ...
    def set_firmware_status(self, charger_id: str, status: str) -> None: ...
    def touch_charger(self, charger_id: str, at: datetime) -> None: ...

    # connectors
    def set_connector_status(
        self,
        charger_id: str,
        connector_id: int,
        status: str,
        error_code: str | None,
        at: datetime,
    ) -> None: ...
    def list_connectors(self, charger_id: str | None = None) -> list[ConnectorRecord]: ...

    # id tokens
    def get_token(self, id_token: str) -> TokenRecord | None: ...
    def put_token(self, token: TokenRecord) -> None: ...
    def add_token_if_absent(self, token: TokenRecord) -> None: ...
    def set_token_blocked(self, id_token: str, blocked: bool) -> bool: ...
    def delete_token(self, id_token: str) -> bool: ...
    def list_tokens(self) -> list[TokenRecord]: ...

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
        """Record a new open transaction. `ocpp_id` None means "use our integer id"."""
        ...

    def find_transaction(self, charger_id: str, ocpp_id: str) -> TransactionRecord | None: ...
    def get_transaction(self, transaction_id: int) -> TransactionRecord | None: ...
    def set_transaction_seq_no(self, transaction_id: int, seq_no: int) -> None: ...
    def stop_transaction(
        self,
        transaction_id: int,
        stopped_at: datetime,
        meter_stop_wh: float | None,
        reason: str | None,
    ) -> None: ...
    def record_orphan_stop(
        self,
        charger_id: str,
        connector_id: int,
        ocpp_id: str,
        stopped_at: datetime,
        meter_stop_wh: float | None,
        reason: str | None,
    ) -> TransactionRecord: ...
    def list_transactions(
        self, open_only: bool = False, charger_id: str | None = None, limit: int = 100
    ) -> list[TransactionRecord]: ...
    def record_transaction_start(
        self, transaction_id: int, started_at: datetime, id_token: str | None
    ) -> None:
        """The start of a transaction first seen by a later event; one recorded as stopped
        for a transaction never seen to start (orphan) becomes a plain stopped one."""
        ...

    def set_transaction_energy(
        self, transaction_id: int, meter_start_wh: float | None, meter_stop_wh: float | None
    ) -> None: ...

    # transaction events (OCPP 2.0.1)
    def add_transaction_event(self, event: TransactionEventRecord) -> None: ...
    def has_transaction_event(self, event: TransactionEventRecord) -> bool:
        """Whether the same event (the same request to the letter) is stored: a resend."""
        ...

    def list_transaction_events(
        self, charger_id: str, transaction_id: str
    ) -> list[TransactionEventRecord]:
        """Every event of the transaction, by seqNo, then time."""
        ...

    def transaction_seq_nos(self, charger_id: str, transaction_id: str) -> list[int]:
        """The seqNo of every event stored for the transaction, ascending."""
        ...

    # meter samples
    def add_meter_samples(self, samples: Sequence[MeterSample], context: str | None) -> None: ...
    def count_meter_samples(self, transaction_id: str | None = None) -> int: ...
    def transaction_register_wh(
        self, charger_id: str, transaction_id: str, context: str, latest: bool
    ) -> float | None:
        """The energy register of a transaction read in `context` if there is such a
        reading, else its earliest reading (its latest with `latest`); None if none."""
        ...

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
        """Record a SetChargingProfile/ClearChargingProfile before it is sent; `command`
        is the controller's command behind a SetChargingProfile, recalled at a restart."""
        ...

    def record_profile_answer(
        self, profile_id: int, status: str, detail: str | None, at: datetime
    ) -> None: ...

    def recall_profiles(self) -> list[RecalledProfile]:
        """What each charger may still enforce: per connector and purpose, the newest
        accepted profile and every one sent after it, oldest first."""
        ...

    def put_setting(self, name: str, value: dict[str, Any], at: datetime) -> None: ...
    def get_setting(self, name: str) -> dict[str, Any] | None: ...
    def delete_setting(self, name: str) -> None: ...
    def list_profiles(
        self, charger_id: str | None = None, limit: int = 100
    ) -> list[ProfileRecord]: ...

    # event log
    def log_event(
        self, at: datetime, charger_id: str | None, kind: str, detail: dict[str, Any]
    ) -> None: ...
    def list_events(self, charger_id: str | None = None, limit: int = 100) -> list[EventRecord]: ...

    # operator commands
    def queue_operator_command(
        self, charger_id: str, action: str, arguments: dict[str, Any], at: datetime
    ) -> int: ...
    def pending_operator_commands(self) -> list[OperatorCommand]: ...
    def finish_operator_command(
        self, command_id: int, result: dict[str, Any], at: datetime
    ) -> None: ...
    def get_operator_command(self, command_id: int) -> OperatorCommand | None: ...

    # ids
    def next_id(self, name: str) -> int:
        """Next value of a named counter; never returns the same value twice."""
        ...

    def close(self) -> None: ...
