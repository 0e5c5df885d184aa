"""OCPP 1.6J messages a charge point sends, turned into store writes and domain events."""

from __future__ import annotations

from typing import Any, ClassVar

from ocpp.v16.enums import Action

from adapters.ocpp.handlers import ChargePointHandlers
from adapters.ocpp.requests import RequestBuilder
from adapters.ocpp.routing import on
from adapters.ocpp.sampling import samples_from_meter_values
from adapters.ocpp.sessions import Authorization, TokenVerdict
from adapters.ocpp.timestamps import from_wire, to_wire, utc_now
from adapters.ocpp.v16 import requests

_ID_TAG_STATUSES = frozenset({"Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"})


def id_tag_info(authorization: Authorization) -> dict[str, Any]:
    status = authorization.status
    if status == TokenVerdict.UNKNOWN or status not in _ID_TAG_STATUSES:
        status = "Invalid"
    info: dict[str, Any] = {"status": status}
    if authorization.expiry is not None:
        info["expiryDate"] = to_wire(authorization.expiry)
    return info


class ChargePoint16(ChargePointHandlers):
    ocpp_version = "1.6"
    subprotocol = "ocpp1.6"
    known_actions = frozenset(action.value for action in Action)
    requests: ClassVar[RequestBuilder] = requests

    @on(Action.boot_notification)
    def on_boot_notification(
        self, charge_point_vendor: str, charge_point_model: str, **kwargs: Any
    ) -> dict[str, Any]:
        return self.boot(
            vendor=charge_point_vendor,
            model=charge_point_model,
            serial=kwargs.get("charge_point_serial_number")
            or kwargs.get("charge_box_serial_number"),
            firmware=kwargs.get("firmware_version"),
        )

    @on(Action.status_notification)
    def on_status_notification(
        self, connector_id: int, error_code: str, status: str, **kwargs: Any
    ) -> dict[str, Any]:
        now = utc_now()
        self.keeper.status(
            self.id,
            connector_id,
            status,
            None if error_code == "NoError" else error_code,
            from_wire(kwargs.get("timestamp"), now),
        )
        return {}

    @on(Action.authorize)
    def on_authorize(self, id_tag: str, **kwargs: Any) -> dict[str, Any]:
        return {"idTagInfo": id_tag_info(self.keeper.authorize(id_tag, utc_now()))}

    @on(Action.start_transaction)
    def on_start_transaction(
        self, connector_id: int, id_tag: str, meter_start: int, timestamp: str, **kwargs: Any
    ) -> dict[str, Any]:
        now = utc_now()
        authorization = self.keeper.authorize(id_tag, now)
        record = self.keeper.start_transaction(
            self.id, connector_id, from_wire(timestamp, now), id_tag, float(meter_start)
        )
        return {"transactionId": record.id, "idTagInfo": id_tag_info(authorization)}

    @on(Action.stop_transaction)
    def on_stop_transaction(
        self, meter_stop: int, timestamp: str, transaction_id: int, **kwargs: Any
    ) -> dict[str, Any]:
        now = utc_now()
        ocpp_id = str(transaction_id)
        known = self.keeper.find_transaction(self.id, ocpp_id)
        connector_id = known.connector_id if known else 0
        samples, context = samples_from_meter_values(
            self.id, connector_id, ocpp_id, kwargs.get("transaction_data") or [], now
        )
        if samples:
            self.keeper.meter_samples(samples, context)
        self.keeper.stop_transaction(
            self.id,
            ocpp_id,
            from_wire(timestamp, now),
            float(meter_stop),
            kwargs.get("reason"),
            connector_id=connector_id,
        )
        id_tag = kwargs.get("id_tag")
        if id_tag is None:
            return {}
        return {"idTagInfo": id_tag_info(self.keeper.authorize(id_tag, now))}

    @on(Action.meter_values)
    def on_meter_values(
        self, connector_id: int, meter_value: list[dict[str, Any]], **kwargs: Any
    ) -> dict[str, Any]:
        transaction_id = kwargs.get("transaction_id")
        samples, context = samples_from_meter_values(
            self.id,
            connector_id,
            None if transaction_id is None else str(transaction_id),
            meter_value,
            utc_now(),
        )
        self.keeper.meter_samples(samples, context)
        return {}

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status_notification(self, status: str, **kwargs: Any) -> dict[str, Any]:
        self.keeper.log(utc_now(), self.id, "diagnostics_status", status=status)
        return {}
