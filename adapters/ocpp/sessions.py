"""The version-independent work behind the handlers: store writes, then domain events.

Handlers of both versions turn their payloads into plain arguments and call this; it
records to the store first (so an answer is only sent after the write is committed) and
then hands typed `ems.events` to the runtime's callback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.storage.records import Registration, TransactionRecord, TransactionState
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
        self._on_event = on_event
        self._accept_unknown_tokens = accept_unknown_tokens

    def emit(self, event: Event) -> None:
        try:
            self._on_event(event)
        except Exception:
            LOG.exception("the event consumer failed on %r", event)

    def log(self, at: datetime, charger_id: str | None, kind: str, **detail: Any) -> None:
        self.store.log_event(at, charger_id, kind, detail)

    # connection and boot

    def connected(self, charger_id: str, protocol: str, at: datetime) -> None:
        record = self.store.get_charger(charger_id)
        self.log(at, charger_id, "connected", protocol=protocol)
        if record is not None and record.registration == Registration.ACCEPTED:
            self.emit(
                ChargerConnected(charger_id, at, protocol, vendor=record.vendor, model=record.model)
            )
            if record.capabilities:
                self.emit(capabilities_event(charger_id, at, record.capabilities))
        elif record is not None:  # Pending: not steered, but it may draw all the same
            self.emit(ChargerAdmitted(charger_id, at))

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
    ) -> str:
        """Record the boot; return the registration to answer with."""
        self.store.record_boot(charger_id, at, protocol, vendor, model, serial, firmware)
        record = self.store.get_charger(charger_id)
        registration = record.registration if record else Registration.REJECTED
        self.log(at, charger_id, "boot", vendor=vendor, model=model, registration=registration)
        if registration == Registration.ACCEPTED:
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
        seq_no: int | None = None,
    ) -> TransactionRecord:
        """Close the transaction; a stop for one we never saw start is recorded as such."""
        record = self.store.find_transaction(charger_id, ocpp_id)
        if record is None:
            LOG.warning("%s: stop for unknown transaction %s, recorded", charger_id, ocpp_id)
            self.log(at, charger_id, "unknown_transaction_stopped", transaction_id=ocpp_id)
            return self.store.record_orphan_stop(
                charger_id, connector_id, ocpp_id, at, meter_stop_wh, reason
            )
        if record.state != TransactionState.OPEN:
            LOG.info("%s: transaction %s stopped again", charger_id, ocpp_id)
            return record
        self.store.stop_transaction(record.id, at, meter_stop_wh, reason, seq_no)
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
