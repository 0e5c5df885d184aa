"""OCPP 2.0.1 messages a charging station sends, turned into store writes and domain events.

Connector ids in events and in the store are EVSE ids (smart charging in 2.0.1 is per
EVSE); transaction ids are the station's own strings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from ocpp.v201.enums import Action

from adapters.ocpp.handlers import ChargePointHandlers
from adapters.ocpp.requests import RequestBuilder
from adapters.ocpp.routing import on
from adapters.ocpp.sampling import samples_from_meter_values
from adapters.ocpp.sessions import Authorization
from adapters.ocpp.timestamps import from_wire, to_wire, utc_now
from adapters.ocpp.v201 import requests
from adapters.storage.records import TransactionEventRecord
from ems.events import ConnectorStatus, EnergyNeed, MeterSample

_STATUS_OF_CHARGING_STATE = {
    "Charging": ConnectorStatus.CHARGING,
    "EVConnected": ConnectorStatus.PREPARING,
    "SuspendedEV": ConnectorStatus.SUSPENDED_EV,
    "SuspendedEVSE": ConnectorStatus.SUSPENDED_EVSE,
}


def id_token_info(authorization: Authorization) -> dict[str, Any]:
    info: dict[str, Any] = {"status": authorization.status}
    if authorization.expiry is not None:
        info["cacheExpiryDateTime"] = to_wire(authorization.expiry)
    return info


class ChargePoint201(ChargePointHandlers):
    ocpp_version = "2.0.1"
    subprotocol = "ocpp2.0.1"
    known_actions = frozenset(action.value for action in Action)
    requests: ClassVar[RequestBuilder] = requests

    @on(Action.boot_notification)
    def on_boot_notification(
        self, charging_station: dict[str, Any], reason: str, **kwargs: Any
    ) -> dict[str, Any]:
        return self.boot(
            vendor=charging_station.get("vendor_name"),
            model=charging_station.get("model"),
            serial=charging_station.get("serial_number"),
            firmware=charging_station.get("firmware_version"),
        )

    @on(Action.status_notification)
    def on_status_notification(
        self, timestamp: str, connector_status: str, evse_id: int, **kwargs: Any
    ) -> dict[str, Any]:
        now = utc_now()
        self.keeper.status(self.id, evse_id, connector_status, None, from_wire(timestamp, now))
        return {}

    @on(Action.authorize)
    def on_authorize(self, id_token: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        authorization = self.keeper.authorize(str(id_token.get("id_token")), utc_now())
        return {"idTokenInfo": id_token_info(authorization)}

    @on(Action.transaction_event)
    def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Every event is a fact, stored before it is answered, in whatever order the
        station sends them: a resend is answered and not applied again; an Ended closes
        the transaction whatever its seqNo; an older event never reopens or restates.

        The event itself is stored after what it changes: a crash in between lets the
        station's resend apply it again rather than pass as one already applied.
        """
        now = utc_now()
        at = from_wire(timestamp, now)
        ocpp_id = str(transaction_info.get("transaction_id"))
        id_token = _id_token(kwargs.get("id_token"))
        answer: dict[str, Any] = {}
        if id_token is not None:
            answer["idTokenInfo"] = id_token_info(self.keeper.authorize(id_token, now))
        fact = TransactionEventRecord(
            self.id,
            ocpp_id,
            seq_no,
            event_type,
            at,
            trigger_reason,
            now,
            {
                "event_type": event_type,
                "timestamp": timestamp,
                "trigger_reason": trigger_reason,
                "seq_no": seq_no,
                "transaction_info": transaction_info,
                **kwargs,
            },
        )
        if self.keeper.is_resend(fact):
            return answer

        record = self.keeper.find_transaction(self.id, ocpp_id)
        newest = record is None or record.last_seq_no is None or seq_no > record.last_seq_no
        evse_id = _evse_id(kwargs.get("evse"))
        connector_id = record.connector_id if record is not None else (evse_id or 0)
        self._meter_values(connector_id, ocpp_id, kwargs.get("meter_value") or [], now)
        start_wh, stop_wh = self.keeper.registers_wh(self.id, ocpp_id)
        if event_type == "Ended":
            self.keeper.stop_transaction(
                self.id,
                ocpp_id,
                at,
                stop_wh,
                transaction_info.get("stopped_reason"),
                connector_id=connector_id,
            )
        elif record is None:
            # Its Started may be late or lost (or came while we were away): it starts here.
            self.keeper.start_transaction(
                self.id, connector_id, at, id_token, start_wh, ocpp_id=ocpp_id, seq_no=seq_no
            )
        elif event_type == "Started":
            self.keeper.late_start(record, at, id_token)
        state = _STATUS_OF_CHARGING_STATE.get(str(transaction_info.get("charging_state")))
        if state is not None and newest:
            self.keeper.status(self.id, connector_id, state.value, None, at)
        self.keeper.transaction_event(fact)
        self.keeper.settle(self.id, ocpp_id, seq_no)
        return answer

    def _meter_values(
        self,
        connector_id: int,
        ocpp_id: str,
        meter_values: list[dict[str, Any]],
        received_at: datetime,
    ) -> None:
        """Store the readings with the context of each meterValue: an Ended event may
        carry the periodic readings of the whole transaction and its Transaction.End."""
        groups: list[tuple[str | None, list[MeterSample]]] = []
        for entry in meter_values:
            samples, context = samples_from_meter_values(
                self.id, connector_id, ocpp_id, [entry], received_at
            )
            if groups and groups[-1][0] == context:
                groups[-1][1].extend(samples)
            else:
                groups.append((context, samples))
        for context, samples in groups:
            self.keeper.meter_samples(samples, context)

    @on(Action.meter_values)
    def on_meter_values(
        self, evse_id: int, meter_value: list[dict[str, Any]], **kwargs: Any
    ) -> dict[str, Any]:
        samples, context = samples_from_meter_values(self.id, evse_id, None, meter_value, utc_now())
        self.keeper.meter_samples(samples, context)
        return {}

    @on(Action.notify_ev_charging_needs)
    def on_notify_ev_charging_needs(
        self, charging_needs: dict[str, Any], evse_id: int, **kwargs: Any
    ) -> dict[str, Any]:
        now = utc_now()
        parameters = (
            charging_needs.get("ac_charging_parameters")
            or charging_needs.get("dc_charging_parameters")
            or {}
        )
        departure = charging_needs.get("departure_time")
        energy = parameters.get("energy_amount")
        self.keeper.energy_need(
            EnergyNeed(
                self.id,
                evse_id,
                now,
                energy_wh=None if energy is None else float(energy),
                departure=None if departure is None else from_wire(departure, now),
                max_current_a=_number(parameters.get("ev_max_current")),
                min_current_a=_number(parameters.get("ev_min_current")),
            )
        )
        return {"status": "Accepted"}

    @on(Action.notify_event)
    def on_notify_event(self, generated_at: str, seq_no: int, **kwargs: Any) -> dict[str, Any]:
        self.keeper.log(utc_now(), self.id, "notify_event", seq_no=seq_no)
        return {}

    @on(Action.security_event_notification)
    def on_security_event_notification(
        self, type: str, timestamp: str, **kwargs: Any
    ) -> dict[str, Any]:
        self.keeper.log(utc_now(), self.id, "security_event", type=type)
        return {}


def _id_token(token: object) -> str | None:
    return str(token.get("id_token")) if isinstance(token, dict) else None


def _evse_id(evse: object) -> int | None:
    return int(evse["id"]) if isinstance(evse, dict) and "id" in evse else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
