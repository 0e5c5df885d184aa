"""Plain records the store reads and writes. No SQL and no OCPP types here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Registration:
    """Registration states of a charger (what its BootNotification is answered with)."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


@dataclass(frozen=True)
class ChargerRecord:
    charger_id: str
    registration: str = Registration.ACCEPTED
    vendor: str | None = None
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    protocol: str | None = None
    capabilities: dict[str, Any] | None = None
    password_hash: str | None = None
    firmware_status: str | None = None
    last_boot: datetime | None = None
    last_seen: datetime | None = None


@dataclass(frozen=True)
class ConnectorRecord:
    charger_id: str
    connector_id: int
    status: str
    error_code: str | None
    updated_at: datetime


@dataclass(frozen=True)
class TokenRecord:
    """A local id token. `status` is the OCPP authorization status to answer with when the
    token is neither blocked nor expired (normally `Accepted`)."""

    id_token: str
    status: str = "Accepted"
    expiry: datetime | None = None
    blocked: bool = False


class TransactionState:
    OPEN = "open"
    STOPPED = "stopped"
    ORPHAN = "orphan"
    """A stop arrived for a transaction we never saw start; recorded as it came."""


@dataclass(frozen=True)
class TransactionRecord:
    """A charging transaction. `id` is ours (integer, never reused); `ocpp_id` is the id on
    the wire: `str(id)` for OCPP 1.6 (an int32), the charger's own string for 2.0.1 and
    for a stop of a transaction we never issued (`ORPHAN`)."""

    id: int
    charger_id: str
    connector_id: int
    ocpp_id: str
    state: str
    started_at: datetime | None
    id_token: str | None = None
    meter_start_wh: float | None = None
    stopped_at: datetime | None = None
    meter_stop_wh: float | None = None
    stop_reason: str | None = None
    last_seq_no: int | None = None


@dataclass(frozen=True)
class TransactionEventRecord:
    """An OCPP 2.0.1 TransactionEvent as it came: a fact, kept whatever order it arrived
    in. `transaction_id` is the station's id; `payload` the request's fields."""

    charger_id: str
    transaction_id: str
    seq_no: int
    event_type: str
    at: datetime
    trigger_reason: str | None
    received_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecalledProfile:
    """A SetChargingProfile sent before, as the controller's command (`command`, see
    `adapters.storage.limits`), with the charger's answer if one came."""

    charger_id: str
    connector_id: int
    purpose: str
    command: dict[str, Any]
    sent_at: datetime
    status: str | None
    answered_at: datetime | None


@dataclass(frozen=True)
class ProfileRecord:
    """A SetChargingProfile or ClearChargingProfile we sent, and the charger's answer."""

    id: int
    charger_id: str
    connector_id: int
    action: str
    purpose: str
    reason: str
    payload: dict[str, Any]
    sent_at: datetime
    status: str | None = None
    detail: str | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True)
class EventRecord:
    id: int
    at: datetime
    charger_id: str | None
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)


class OperatorCommandState:
    QUEUED = "queued"
    DONE = "done"


@dataclass(frozen=True)
class OperatorCommand:
    """A request from an operator (the CLI) that the running central system executes.

    `action` is one of the central system's operator verbs (`remote_start`, `remote_stop`,
    `reset`, `change_availability`, `unlock_connector`, `trigger_message`); `arguments` are
    its keyword arguments. `result` holds the charger's answer once `state` is `done`.
    """

    id: int
    charger_id: str
    action: str
    arguments: dict[str, Any]
    requested_at: datetime
    state: str = OperatorCommandState.QUEUED
    result: dict[str, Any] | None = None
    done_at: datetime | None = None
