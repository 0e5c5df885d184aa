"""OCPP 1.6J frames of the simulated charger."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp.v16 import ChargePoint, call, call_result

from adapters.ocpp.sim.charge_point import SimChargePoint
from adapters.ocpp.sim.routing import after, on
from adapters.ocpp.sim.samples import sampled_values
from adapters.ocpp.sim.smart import PURPOSES, profile_from_wire

if TYPE_CHECKING:
    from adapters.ocpp.sim.charger import ConnectorState, MeterSnapshot, SimChargerConfig

_TRIGGERS = {"BootNotification", "Heartbeat", "StatusNotification", "MeterValues"}


def _write_value(value: float, unit: str) -> dict[str, Any]:
    return {"value": f"{value:.2f}", "unit": unit}


class ChargePoint16(SimChargePoint, ChargePoint):  # type: ignore[misc]
    calls = call

    # --- outbound ----------------------------------------------------------------------

    def boot_notification(self, config: SimChargerConfig) -> call.BootNotification:
        return call.BootNotification(
            charge_point_model=config.model,
            charge_point_vendor=config.vendor,
            charge_point_serial_number=f"SN-{config.charger_id}"[:25],
            firmware_version="sim-1.0",
        )

    async def status(self, connector: ConnectorState) -> None:
        await self.call(
            call.StatusNotification(
                connector_id=connector.connector_id,
                error_code="NoError",
                status=connector.status,
                timestamp=self.sim.timestamp(),
            ),
            suppress=False,
        )

    async def authorize(self, id_tag: str) -> bool:
        result = await self.call(call.Authorize(id_tag=id_tag), suppress=False)
        return bool(result.id_tag_info["status"] == "Accepted")

    async def start_transaction(self, connector: ConnectorState, remote: bool) -> str:
        result = await self.call(
            call.StartTransaction(
                connector_id=connector.connector_id,
                id_tag=connector.id_tag or "",
                meter_start=int(connector.energy_wh),
                timestamp=self.sim.timestamp(),
            ),
            suppress=False,
        )
        return str(result.transaction_id)

    async def stop_transaction(self, connector: ConnectorState, reason: str) -> None:
        assert connector.transaction is not None
        reasons = {"EVDisconnected": "EVDisconnected", "Remote": "Remote", "HardReset": "HardReset"}
        await self.call(
            call.StopTransaction(
                meter_stop=int(connector.energy_wh),
                timestamp=self.sim.timestamp(),
                transaction_id=int(connector.transaction.transaction_id),
                reason=reasons.get(reason, "Other"),
                id_tag=connector.id_tag,
            ),
            suppress=False,
        )

    async def meter_values(self, connector: ConnectorState, snapshot: MeterSnapshot) -> None:
        tx = connector.transaction
        await self.call(
            call.MeterValues(
                connector_id=connector.connector_id,
                transaction_id=int(tx.transaction_id) if tx else None,
                meter_value=[
                    {
                        "timestamp": self.sim.timestamp(),
                        "sampled_value": sampled_values(snapshot, "Sample.Periodic", _write_value),
                    }
                ],
            ),
            suppress=False,
        )

    async def charging_state(self, connector: ConnectorState) -> None:
        """1.6 says it all with StatusNotification."""

    # --- inbound -----------------------------------------------------------------------

    @on("SetChargingProfile")
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        profile = profile_from_wire(connector_id, cs_charging_profiles, self.sim.clock())
        return call_result.SetChargingProfile(status=self.sim.set_profile(connector_id, profile))

    @on("ClearChargingProfile")
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        purpose = PURPOSES[charging_profile_purpose] if charging_profile_purpose else None
        cleared = self.sim.clear_profiles(id, connector_id, purpose, stack_level)
        return call_result.ClearChargingProfile(status="Accepted" if cleared else "Unknown")

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> call_result.GetCompositeSchedule:
        if connector_id != 0 and connector_id not in self.sim.connectors:
            return call_result.GetCompositeSchedule(status="Rejected")
        unit = charging_rate_unit or "A"
        periods = self.sim.composite_periods(connector_id, duration, unit)
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=self.sim.timestamp(),
            charging_schedule={
                "duration": duration,
                "start_schedule": self.sim.timestamp(),
                "charging_rate_unit": unit,
                "charging_schedule_period": periods,
            },
        )

    @on("GetConfiguration")
    def on_get_configuration(
        self, key: list[str] | None = None, **_: Any
    ) -> call_result.GetConfiguration:
        known = self.sim.configuration()
        wanted = key or list(known)
        return call_result.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": True, "value": known[k]} for k in wanted if k in known
            ],
            unknown_key=[k for k in wanted if k not in known] or None,
        )

    @on("ChangeConfiguration")
    def on_change_configuration(
        self, key: str, value: str, **_: Any
    ) -> call_result.ChangeConfiguration:
        if key == "HeartbeatInterval" and value.isdigit() and int(value) > 0:
            self.sim.heartbeat_interval_s = float(value)
            return call_result.ChangeConfiguration(status="Accepted")
        known = self.sim.configuration()
        return call_result.ChangeConfiguration(
            status="Rejected" if key in known else "NotSupported"
        )

    @on("RemoteStartTransaction")
    def on_remote_start(
        self, id_tag: str, connector_id: int | None = None, **_: Any
    ) -> call_result.RemoteStartTransaction:
        free = self.sim.free_connector(connector_id)
        return call_result.RemoteStartTransaction(status="Accepted" if free else "Rejected")

    @after("RemoteStartTransaction")
    def after_remote_start(self, id_tag: str, connector_id: int | None = None, **_: Any) -> None:
        free = self.sim.free_connector(connector_id)
        if free is not None:
            self.sim.spawn(self.sim.start_session(free, id_tag, remote=True))

    @on("RemoteStopTransaction")
    def on_remote_stop(self, transaction_id: int, **_: Any) -> call_result.RemoteStopTransaction:
        found = self.sim.find_transaction(str(transaction_id))
        return call_result.RemoteStopTransaction(status="Accepted" if found else "Rejected")

    @after("RemoteStopTransaction")
    def after_remote_stop(self, transaction_id: int, **_: Any) -> None:
        found = self.sim.find_transaction(str(transaction_id))
        if found is not None:
            self.sim.spawn(self.sim.end_session(found, "Remote"))

    @on("ChangeAvailability")
    def on_change_availability(
        self, connector_id: int, type: str, **_: Any
    ) -> call_result.ChangeAvailability:
        if connector_id != 0 and connector_id not in self.sim.connectors:
            return call_result.ChangeAvailability(status="Rejected")
        return call_result.ChangeAvailability(
            status=self.sim.set_available(connector_id, type == "Operative")
        )

    @on("Reset")
    def on_reset(self, type: str, **_: Any) -> call_result.Reset:
        return call_result.Reset(status="Accepted")

    @after("Reset")
    def after_reset(self, type: str, **_: Any) -> None:
        self.sim.spawn(self.sim.reset())

    @on("TriggerMessage")
    def on_trigger(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> call_result.TriggerMessage:
        accepted = requested_message in _TRIGGERS
        return call_result.TriggerMessage(status="Accepted" if accepted else "NotImplemented")

    @after("TriggerMessage")
    def after_trigger(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> None:
        if requested_message == "BootNotification":
            self.sim.spawn(self.boot())
        elif requested_message == "Heartbeat":
            self.sim.spawn(self.sim.heartbeat())
        elif requested_message == "MeterValues":
            self.sim.spawn(self.sim.send_meter_values())
        elif requested_message == "StatusNotification":
            for c, state in self.sim.connectors.items():
                if connector_id in (None, 0, c):
                    self.sim.spawn(self.sim.report_status(state, force=True))
