"""The handlers OCPP 1.6J and 2.0.1 share; each version's class adds its own (`v16`, `v201`)."""

from __future__ import annotations

from typing import Any

from adapters.ocpp.connection import OcppConnection
from adapters.ocpp.routing import on
from adapters.ocpp.timestamps import to_wire, utc_now

PENDING_RETRY_S = 60


class ChargePointHandlers(OcppConnection):
    """Base of `ChargePoint16` and `ChargePoint201`: the actions both versions spell alike."""

    def boot(
        self,
        *,
        vendor: str | None,
        model: str | None,
        serial: str | None,
        firmware: str | None,
    ) -> dict[str, Any]:
        """Register a boot and build the BootNotification answer; once it is sent, the
        requests waiting for the boot go out, then the capability probe."""
        now = utc_now()
        registration = self.keeper.boot(
            self.id,
            now,
            self.subprotocol,
            vendor=vendor,
            model=model,
            serial=serial,
            firmware=firmware,
            announce=not self.announced,
        )
        self.registered(registration)
        self.announced = self.announced or self.accepted
        if self.accepted and self.settings.probe_capabilities:
            self.after_answer(self.probe_capabilities)
        interval = self.settings.heartbeat_interval_s if self.accepted else PENDING_RETRY_S
        return {"status": registration, "currentTime": to_wire(now), "interval": interval}

    @on("Heartbeat")
    def on_heartbeat(self, **kwargs: Any) -> dict[str, Any]:
        now = utc_now()
        self.keeper.heartbeat(self.id, now)
        return {"currentTime": to_wire(now)}

    @on("DataTransfer")
    def on_data_transfer(self, vendor_id: str, **kwargs: Any) -> dict[str, Any]:
        self.keeper.log(
            utc_now(),
            self.id,
            "data_transfer",
            vendor_id=vendor_id,
            message_id=kwargs.get("message_id"),
            data=kwargs.get("data"),
        )
        return {"status": "UnknownVendorId"}

    @on("FirmwareStatusNotification")
    def on_firmware_status_notification(self, status: str, **kwargs: Any) -> dict[str, Any]:
        self.keeper.firmware_status(self.id, utc_now(), status)
        return {}
