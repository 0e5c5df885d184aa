"""The version-independent work behind the handlers: store writes, then domain events.

Handlers of both versions turn their payloads into plain arguments and call this; it
records to the store first and then hands typed `ems.events` to the runtime's callback.
All the writes behind one message share one commit (`GroupCommit`); a charger's CALL is
answered only after `durable()` committed them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.storage.group_commit import GroupCommit
from adapters.storage.records import (
    Registration,
    TransactionEventRecord,
    TransactionRecord,
    TransactionState,
)
from adapters.storage.repository import Store
from ems.events import (
    ChargerAdmitted,
    ChargerCapabilities,
    ChargerConnected,
    ChargerDisconnected,
    ConnectorStatus,
    EnergyNeed,
    Event,
    MeterSample,
    SessionEnded,
    SessionStarted,
    StatusChanged,
)

LOG = logging.getLogger(__name__)

TRANSACTION_BEGIN = "Transaction.Begin"
TRANSACTION_END = "Transaction.End"
"""Reading contexts of the energy register at the start and the end of a transaction."""

EventSink = Callable[[Event], None]


class TokenVerdict:
    """Authorization outcomes; each version spells `UNKNOWN` its own way."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    UNKNOWN = "Unknown"


@dataclass(frozen=True)
class Authorization:
    status: str
    expiry: datetime | None = None


class SessionKeeper:
    def __init__(self, store: Store, on_event: EventSink, accept_unknown_tokens: bool) -> None:
        self.store = store
        self.commits = GroupCommit(store)
        self._on_event = on_event
        self._accept_unknown_tokens = accept_unknown_tokens

    def durable(self) -> None:
        """Commit every write so far (raise if that failed)."""
        self.commits.durable()

    def emit(self, event: Event) -> None:
        try:
            self._on_event(event)
        except Exception:
            LOG.exception("the event consumer failed on %r", event)

    def log(self, at: datetime, charger_id: str | None, kind: str, **detail: Any) -> None:
        self.store.log_event(at, charger_id, kind, detail)

    # connection and boot

    def connected(self, charger_id: str, protocol: str, at: datetime) -> None:
        """The socket opened: the charger is admitted at once (not steered yet, but it may
        draw all the same). It is announced (`ChargerConnected`, once per connection) when
        it can be steered: at its accepted `boot`, or when it shows it booted over an
        earlier connection (`resumed`)."""
        record = self.store.get_charger(charger_id)
        self.log(at, charger_id, "connected", protocol=protocol)
        if record is None:
            return
        self.emit(ChargerAdmitted(charger_id, at))
        if record.capabilities:
            self.emit(capabilities_event(charger_id, at, record.capabilities))

    def resumed(self, charger_id: str, protocol: str, at: datetime) -> None:
        """Announce an accepted charger that reconnected without booting again."""
        record = self.store.get_charger(charger_id)
        vendor, model = (record.vendor, record.model) if record else (None, None)
        self.emit(ChargerConnected(charger_id, at, protocol, vendor=vendor, model=model))

    def disconnected(self, charger_id: str, at: datetime, reason: str) -> None:
        self.log(at, charger_id, "disconnected", reason=reason)
        self.emit(ChargerDisconnected(charger_id, at))

    def boot(
        self,
        charger_id: str,
        at: datetime,
        protocol: str,
        vendor: str | None,
        model: str | None,
        serial: str | None,
        firmware: str | None,
        announce: bool = True,
    ) -> str:
        """Record the boot; return the registration to answer with. An accepted boot is
        announced (`ChargerConnected`) unless `announce` is False: its connection was."""
        self.store.record_boot(charger_id, at, protocol, vendor, model, serial, firmware)
        record = self.store.get_charger(charger_id)
        registration = record.registration if record else Registration.REJECTED
        self.log(at, charger_id, "boot", vendor=vendor, model=model, registration=registration)
        if registration == Registration.ACCEPTED and announce:
            self.emit(ChargerConnected(charger_id, at, protocol, vendor=vendor, model=model))
        return registration

    def is_accepted(self, charger_id: str) -> bool:
        record = self.store.get_charger(charger_id)
        return record is not None and record.registration == Registration.ACCEPTED

    def heartbeat(self, charger_id: str, at: datetime) -> None:
        self.store.touch_charger(charger_id, at)

    def capabilities(self, charger_id: str, at: datetime, capabilities: dict[str, Any]) -> None:
        self.store.set_capabilities(charger_id, capabilities)
        self.log(at, charger_id, "capabilities", **capabilities)
        self.emit(capabilities_event(charger_id, at, capabilities))

    def firmware_status(self, charger_id: str, at: datetime, status: str) -> None:
        self.store.set_firmware_status(charger_id, status)
        self.log(at, charger_id, "firmware_status", status=status)

    # connectors

    def status(
        self,
        charger_id: str,
        connector_id: int,
        status: str,
        error_code: str | None,
        at: datetime,
    ) -> None:
        self.store.set_connector_status(charger_id, connector_id, status, error_code, at)
        try:
            typed = ConnectorStatus(status)
        except ValueError:
            LOG.warning("%s: unknown connector status %r", charger_id, status)
            return
        self.emit(StatusChanged(charger_id, connector_id, typed, at, error_code))

    # tokens

    def authorize(self, id_token: str, at: datetime) -> Authorization:
        token = self.store.get_token(id_token)
        if token is None:
            status = TokenVerdict.ACCEPTED if self._accept_unknown_tokens else TokenVerdict.UNKNOWN
            return Authorization(status)
        if token.blocked:
            return Authorization(TokenVerdict.BLOCKED, token.expiry)
        if token.expiry is not None and token.expiry <= at:
            return Authorization(TokenVerdict.EXPIRED, token.expiry)
        return Authorization(token.status, token.expiry)

    # transactions

    def start_transaction(
        self,
        charger_id: str,
        connector_id: int,
        at: datetime,
        id_token: str | None,
        meter_start_wh: float | None,
        ocpp_id: str | None = None,
        seq_no: int | None = None,
    ) -> TransactionRecord:
        record = self.store.start_transaction(
            charger_id, connector_id, at, id_token, meter_start_wh, ocpp_id, seq_no
        )
        self.emit(
            SessionStarted(
                charger_id,
                connector_id,
                record.ocpp_id,
                at,
                id_token=id_token,
                meter_start_wh=meter_start_wh,
            )
        )
        return record

    def find_transaction(self, charger_id: str, ocpp_id: str) -> TransactionRecord | None:
        return self.store.find_transaction(charger_id, ocpp_id)

    def stop_transaction(
        self,
        charger_id: str,
        ocpp_id: str,
        at: datetime,
        meter_stop_wh: float | None,
        reason: str | None,
        connector_id: int = 0,
    ) -> TransactionRecord:
        """Close the transaction; a stop for one we never saw start is recorded as such."""
        record = self.store.find_transaction(charger_id, ocpp_id)
        if record is None:
            LOG.warning(
                "%s: stop for unknown transaction %s, answered and recorded", charger_id, ocpp_id
            )
            self.log(at, charger_id, "unknown_transaction_stopped", transaction_id=ocpp_id)
            return self.store.record_orphan_stop(
                charger_id, connector_id, ocpp_id, at, meter_stop_wh, reason
            )
        if record.state != TransactionState.OPEN:
            LOG.info("%s: transaction %s stopped again", charger_id, ocpp_id)
            return record
        self.store.stop_transaction(record.id, at, meter_stop_wh, reason)
        self.emit(
            SessionEnded(
                charger_id,
                record.connector_id,
                record.ocpp_id,
                at,
                meter_stop_wh=meter_stop_wh,
                reason=reason,
            )
        )
        return record

    def is_resend(self, event: TransactionEventRecord) -> bool:
        """Whether this 2.0.1 TransactionEvent is stored already (a station resends one it
        saw no answer to): it is answered, not applied again."""
        if not self.store.has_transaction_event(event):
            return False
        LOG.info(
            "%s: transaction %s seqNo %s received again (a resend), answered",
            event.charger_id,
            event.transaction_id,
            event.seq_no,
        )
        return True

    def transaction_event(self, event: TransactionEventRecord) -> None:
        """Store a 2.0.1 TransactionEvent. A seqNo gap it opens is logged naming the
        station and noted in the event log (`transaction_seq_gap`): events lost on the way
        are visible there."""
        self.store.add_transaction_event(event)
        seq_nos = self.store.transaction_seq_nos(event.charger_id, event.transaction_id)
        gap = opened_gap(seq_nos, event.seq_no)
        if gap is None:
            return
        LOG.warning(
            "%s: transaction %s is missing seqNo %s..%s (seqNo %s arrived)",
            event.charger_id,
            event.transaction_id,
            gap[0],
            gap[1],
            event.seq_no,
        )
        self.log(
            event.received_at,
            event.charger_id,
            "transaction_seq_gap",
            transaction_id=event.transaction_id,
            missing_from=gap[0],
            missing_to=gap[1],
        )

    def registers_wh(self, charger_id: str, ocpp_id: str) -> tuple[float | None, float | None]:
        """The energy register at the start and at the end of a transaction: its
        Transaction.Begin and Transaction.End readings, else its first and last ones."""
        return (
            self.store.transaction_register_wh(charger_id, ocpp_id, TRANSACTION_BEGIN, False),
            self.store.transaction_register_wh(charger_id, ocpp_id, TRANSACTION_END, True),
        )

    def late_start(self, record: TransactionRecord, at: datetime, id_token: str | None) -> None:
        """A Started event arriving after other events of its transaction: it gives the
        start; an Ended seen before it keeps the transaction closed."""
        self.store.record_transaction_start(record.id, at, id_token)

    def settle(self, charger_id: str, ocpp_id: str, seq_no: int) -> None:
        """Bring a transaction in line with every event stored for it, whatever order
        they came in: the highest seqNo, and its registers (the end once it ended)."""
        record = self.store.find_transaction(charger_id, ocpp_id)
        if record is None:
            return
        if record.last_seq_no is None or seq_no > record.last_seq_no:
            self.store.set_transaction_seq_no(record.id, seq_no)
        start_wh, end_wh = self.registers_wh(charger_id, ocpp_id)
        stop_wh = None if record.state == TransactionState.OPEN else end_wh
        if (start_wh, stop_wh) != (record.meter_start_wh, record.meter_stop_wh):
            self.store.set_transaction_energy(record.id, start_wh, stop_wh)

    # measurements and needs

    def meter_samples(self, samples: Sequence[MeterSample], context: str | None) -> None:
        self.store.add_meter_samples(samples, context)
        for sample in samples:
            self.emit(sample)

    def energy_need(self, need: EnergyNeed) -> None:
        self.log(
            need.at,
            need.charger_id,
            "energy_need",
            connector_id=need.connector_id,
            energy_wh=need.energy_wh,
            departure=need.departure.isoformat() if need.departure else None,
        )
        self.emit(need)


def capabilities_event(
    charger_id: str, at: datetime, capabilities: dict[str, Any]
) -> ChargerCapabilities:
    """The stored capability record (see the probes) as the domain event."""
    return ChargerCapabilities(
        charger_id,
        at,
        max_stack_level=capabilities.get("max_stack_level"),
        rate_units=tuple(capabilities.get("rate_units") or ("A", "W")),
        max_periods=capabilities.get("max_periods"),
        smart_charging=bool(capabilities.get("smart_charging", True)),
    )


def opened_gap(seq_nos: Sequence[int], seq_no: int) -> tuple[int, int] | None:
    """The seqNos (first, last) found missing when `seq_no` joined `seq_nos` (every
    seqNo stored, itself included), or None.

    A gap opens only beyond either end of what was seen before; an event landing between
    two seen ones fills (part of) a gap already noted.
    """
    if seq_nos.count(seq_no) > 1:
        return None
    lower = max((s for s in seq_nos if s < seq_no), default=None)
    upper = min((s for s in seq_nos if s > seq_no), default=None)
    if upper is None and lower is not None and seq_no - lower > 1:
        return lower + 1, seq_no - 1
    if lower is None and upper is not None and upper - seq_no > 1:
        return seq_no + 1, upper - 1
    return None
