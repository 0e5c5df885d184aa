"""OCPP 2.0.1 messages a charging station sends, turned into store writes and domain events.

Connector ids in events and in the store are EVSE ids (smart charging in 2.0.1 is per
EVSE); transaction ids are the station's own strings.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from ocpp.v201.enums import Action

from adapters.ocpp.handlers import ChargePointHandlers
from adapters.ocpp.requests import RequestBuilder
from adapters.ocpp.routing import on
from adapters.ocpp.sampling import samples_from_meter_values
from adapters.ocpp.sessions import Authorization
from adapters.ocpp.timestamps import from_wire, to_wire, utc_now
from adapters.ocpp.v201 import requests
from adapters.storage.records import TransactionState
from ems.events import ConnectorStatus, EnergyNeed

LOG = logging.getLogger(__name__)


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
        seq_no: int,
        transaction_info: dict[str, Any],
        **kwargs: Any,
    ) -> dict[str, Any]:
        now = utc_now()
        at = from_wire(timestamp, now)
        ocpp_id = str(transaction_info.get("transaction_id"))
        token = kwargs.get("id_token")
        id_token = str(token.get("id_token")) if isinstance(token, dict) else None
        answer: dict[str, Any] = {}
        if id_token is not None:
            answer["idTokenInfo"] = id_token_info(self.keeper.authorize(id_token, now))

        record = self.keeper.find_transaction(self.id, ocpp_id)
        if record is not None and record.last_seq_no is not None and seq_no <= record.last_seq_no:
            LOG.info("%s: transaction %s seqNo %s seen already", self.id, ocpp_id, seq_no)
            return answer
        evse = kwargs.get("evse")
        evse_id = int(evse["id"]) if isinstance(evse, dict) and "id" in evse else None
        if record is None and event_type != "Ended":
            # A transaction first seen as Updated (started while we were away) starts here.
            record = self.keeper.start_transaction(
                self.id,
                evse_id or 0,
                at,
                id_token,
                None,
                ocpp_id=ocpp_id,
                seq_no=seq_no,
            )
        connector_id = record.connector_id if record is not None else (evse_id or 0)

        samples, context = samples_from_meter_values(
            self.id, connector_id, ocpp_id, kwargs.get("meter_value") or [], now
        )
        if samples:
            self.keeper.meter_samples(samples, context)
        state = _STATUS_OF_CHARGING_STATE.get(str(transaction_info.get("charging_state")))
        if state is not None:
            self.keeper.status(self.id, connector_id, state.value, None, at)

        if event_type == "Ended":
            energies = [s.energy_wh for s in samples if s.energy_wh is not None]
            self.keeper.stop_transaction(
                self.id,
                ocpp_id,
                at,
                energies[-1] if energies else None,
                transaction_info.get("stopped_reason"),
                connector_id=connector_id,
                seq_no=seq_no,
            )
        elif record is not None and record.state == TransactionState.OPEN:
            self.keeper.store.set_transaction_seq_no(record.id, seq_no)
        return answer

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


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
