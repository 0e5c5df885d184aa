"""OCPP 2.0.1 frames of the simulated charger. Each connector is one EVSE with one
connector; a transaction's meter values go out as TransactionEvent Updated."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from ocpp.v201 import ChargePoint, call, call_result

from adapters.ocpp.sim.charge_point import SimChargePoint
from adapters.ocpp.sim.routing import after, on
from adapters.ocpp.sim.samples import sampled_values
from adapters.ocpp.sim.smart import PURPOSES, profile_from_wire

if TYPE_CHECKING:
    from adapters.ocpp.sim.charger import ConnectorState, MeterSnapshot, SimChargerConfig

_TRIGGERS = {
    "BootNotification",
    "Heartbeat",
    "StatusNotification",
    "MeterValues",
    "TransactionEvent",
}
_CHARGING_STATES = {
    "Charging": "Charging",
    "SuspendedEV": "SuspendedEV",
    "SuspendedEVSE": "SuspendedEVSE",
    "Preparing": "EVConnected",
    "Finishing": "EVConnected",
}
_STOP_REASONS = {
    "EVDisconnected": "EVDisconnected",
    "Remote": "Remote",
    "ImmediateReset": "ImmediateReset",
}
_STOP_TRIGGERS = {
    "EVDisconnected": "EVDeparted",
    "Remote": "RemoteStop",
    "ImmediateReset": "ResetCommand",
}
_SMART = "SmartChargingCtrlr"


def connector_status(connector: ConnectorState) -> str:
    status = connector.status
    if status in ("Available", "Unavailable"):
        return status
    return "Occupied"


def _write_value(value: float, unit: str) -> dict[str, Any]:
    return {"value": round(value, 2), "unit_of_measure": {"unit": unit}}


class ChargePoint201(SimChargePoint, ChargePoint):  # type: ignore[misc]
    calls = call

    # --- outbound ----------------------------------------------------------------------

    def boot_notification(self, config: SimChargerConfig) -> call.BootNotification:
        return call.BootNotification(
            charging_station={
                "model": config.model,
                "vendor_name": config.vendor,
                "serial_number": f"SN-{config.charger_id}"[:25],
                "firmware_version": "sim-1.0",
            },
            reason="PowerUp",
        )

    async def status(self, connector: ConnectorState) -> None:
        await self.call(
            call.StatusNotification(
                timestamp=self.sim.timestamp(),
                connector_status=connector_status(connector),
                evse_id=connector.connector_id,
                connector_id=1,
            ),
            suppress=False,
        )

    async def authorize(self, id_tag: str) -> bool:
        result = await self.call(
            call.Authorize(id_token={"id_token": id_tag, "type": "ISO14443"}), suppress=False
        )
        return bool(result.id_token_info["status"] == "Accepted")

    async def _transaction_event(
        self,
        connector: ConnectorState,
        event_type: str,
        trigger: str,
        info: dict[str, Any],
        **extra: Any,
    ) -> None:
        seq_no = connector.seq_no
        connector.seq_no += 1
        await self.call(
            call.TransactionEvent(
                event_type=event_type,
                timestamp=self.sim.timestamp(),
                trigger_reason=trigger,
                seq_no=seq_no,
                transaction_info=info,
                evse={"id": connector.connector_id, "connector_id": 1},
                **extra,
            ),
            suppress=False,
        )

    async def start_transaction(self, connector: ConnectorState, remote: bool) -> str:
        tx_id = str(uuid.uuid4())
        connector.reported_charging = "EVConnected"
        snapshot = self.sim.snapshot(connector)
        await self._transaction_event(
            connector,
            "Started",
            "RemoteStart" if remote else "Authorized",
            {"transaction_id": tx_id, "charging_state": "EVConnected"},
            id_token={"id_token": connector.id_tag or "", "type": "ISO14443"},
            meter_value=[
                {
                    "timestamp": self.sim.timestamp(),
                    "sampled_value": sampled_values(snapshot, "Transaction.Begin", _write_value),
                }
            ],
        )
        return tx_id

    async def stop_transaction(self, connector: ConnectorState, reason: str) -> None:
        assert connector.transaction is not None
        snapshot = self.sim.snapshot(connector)
        await self._transaction_event(
            connector,
            "Ended",
            _STOP_TRIGGERS.get(reason, "AbnormalCondition"),
            {
                "transaction_id": connector.transaction.transaction_id,
                "charging_state": "Idle",
                "stopped_reason": _STOP_REASONS.get(reason, "Other"),
            },
            meter_value=[
                {
                    "timestamp": self.sim.timestamp(),
                    "sampled_value": sampled_values(snapshot, "Transaction.End", _write_value),
                }
            ],
        )
        connector.reported_charging = None

    async def meter_values(self, connector: ConnectorState, snapshot: MeterSnapshot) -> None:
        assert connector.transaction is not None
        await self._transaction_event(
            connector,
            "Updated",
            "MeterValuePeriodic",
            {"transaction_id": connector.transaction.transaction_id},
            meter_value=[
                {
                    "timestamp": self.sim.timestamp(),
                    "sampled_value": sampled_values(snapshot, "Sample.Periodic", _write_value),
                }
            ],
        )

    async def charging_state(self, connector: ConnectorState) -> None:
        state = _CHARGING_STATES.get(connector.status)
        if connector.transaction is None or state is None or state == connector.reported_charging:
            return
        connector.reported_charging = state
        await self._transaction_event(
            connector,
            "Updated",
            "ChargingStateChanged",
            {"transaction_id": connector.transaction.transaction_id, "charging_state": state},
        )

    # --- inbound -----------------------------------------------------------------------

    @on("SetChargingProfile")
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        profile = profile_from_wire(evse_id, charging_profile, self.sim.clock())
        return call_result.SetChargingProfile(status=self.sim.set_profile(evse_id, profile))

    @on("ClearChargingProfile")
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        criteria = charging_profile_criteria or {}
        purpose = criteria.get("charging_profile_purpose")
        cleared = self.sim.clear_profiles(
            charging_profile_id,
            criteria.get("evse_id"),
            PURPOSES[purpose] if purpose else None,
            criteria.get("stack_level"),
        )
        return call_result.ClearChargingProfile(status="Accepted" if cleared else "Unknown")

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(
        self, duration: int, evse_id: int, charging_rate_unit: str | None = None, **_: Any
    ) -> call_result.GetCompositeSchedule:
        if evse_id != 0 and evse_id not in self.sim.connectors:
            return call_result.GetCompositeSchedule(status="Rejected")
        unit = charging_rate_unit or "A"
        periods = self.sim.composite_periods(evse_id, duration, unit)
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": self.sim.timestamp(),
                "charging_rate_unit": unit,
                "charging_schedule_period": periods,
            },
        )

    def _variables(self) -> dict[tuple[str, str, str | None], str]:
        config = self.sim.configuration()
        units = ",".join(self.sim.config.behaviour.rate_units)
        return {
            (_SMART, "Enabled", None): "true",
            (_SMART, "Available", None): "true",
            (_SMART, "ProfileStackLevel", None): config["ChargeProfileMaxStackLevel"],
            (_SMART, "PeriodsPerSchedule", None): config["ChargingScheduleMaxPeriods"],
            (_SMART, "RateUnit", None): units,
            (_SMART, "Entries", "ChargingProfiles"): config["MaxChargingProfilesInstalled"],
            (_SMART, "LimitChangeSignificance", None): "1.0",
            ("OCPPCommCtrlr", "HeartbeatInterval", None): config["HeartbeatInterval"],
            ("SampledDataCtrlr", "TxUpdatedInterval", None): config["MeterValueSampleInterval"],
        }

    @on("GetVariables")
    def on_get_variables(
        self, get_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.GetVariables:
        known = self._variables()
        components = {c for c, _, _ in known}
        results = []
        for item in get_variable_data:
            component, variable = item["component"], item["variable"]
            key = (component["name"], variable["name"], variable.get("instance"))
            result: dict[str, Any] = {"component": component, "variable": variable}
            if key in known:
                result |= {"attribute_status": "Accepted", "attribute_value": known[key]}
            elif component["name"] in components:
                result["attribute_status"] = "UnknownVariable"
            else:
                result["attribute_status"] = "UnknownComponent"
            results.append(result)
        return call_result.GetVariables(get_variable_result=results)

    @on("SetVariables")
    def on_set_variables(
        self, set_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.SetVariables:
        results = []
        for item in set_variable_data:
            component, variable, value = (
                item["component"],
                item["variable"],
                item["attribute_value"],
            )
            status = "Rejected"
            if (component["name"], variable["name"]) == ("OCPPCommCtrlr", "HeartbeatInterval") and (
                value.isdigit() and int(value) > 0
            ):
                self.sim.heartbeat_interval_s = float(value)
                status = "Accepted"
            results.append(
                {"component": component, "variable": variable, "attribute_status": status}
            )
        return call_result.SetVariables(set_variable_result=results)

    @on("RequestStartTransaction")
    def on_request_start(
        self, id_token: dict[str, Any], remote_start_id: int, evse_id: int | None = None, **_: Any
    ) -> call_result.RequestStartTransaction:
        free = self.sim.free_connector(evse_id)
        return call_result.RequestStartTransaction(status="Accepted" if free else "Rejected")

    @after("RequestStartTransaction")
    def after_request_start(
        self, id_token: dict[str, Any], remote_start_id: int, evse_id: int | None = None, **_: Any
    ) -> None:
        free = self.sim.free_connector(evse_id)
        if free is not None:
            self.sim.spawn(self.sim.start_session(free, id_token["id_token"], remote=True))

    @on("RequestStopTransaction")
    def on_request_stop(self, transaction_id: str, **_: Any) -> call_result.RequestStopTransaction:
        found = self.sim.find_transaction(transaction_id)
        return call_result.RequestStopTransaction(status="Accepted" if found else "Rejected")

    @after("RequestStopTransaction")
    def after_request_stop(self, transaction_id: str, **_: Any) -> None:
        found = self.sim.find_transaction(transaction_id)
        if found is not None:
            self.sim.spawn(self.sim.end_session(found, "Remote"))

    @on("ChangeAvailability")
    def on_change_availability(
        self, operational_status: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> call_result.ChangeAvailability:
        evse_id = evse["id"] if evse else 0
        if evse_id != 0 and evse_id not in self.sim.connectors:
            return call_result.ChangeAvailability(status="Rejected")
        return call_result.ChangeAvailability(
            status=self.sim.set_available(evse_id, operational_status == "Operative")
        )

    @on("Reset")
    def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> call_result.Reset:
        return call_result.Reset(status="Accepted" if evse_id is None else "Rejected")

    @after("Reset")
    def after_reset(self, type: str, evse_id: int | None = None, **_: Any) -> None:
        if evse_id is None:
            self.sim.spawn(self.sim.reset())

    @on("TriggerMessage")
    def on_trigger(self, requested_message: str, **_: Any) -> call_result.TriggerMessage:
        accepted = requested_message in _TRIGGERS
        return call_result.TriggerMessage(status="Accepted" if accepted else "NotImplemented")

    @after("TriggerMessage")
    def after_trigger(
        self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> None:
        evse_id = evse["id"] if evse else None
        if requested_message == "BootNotification":
            self.sim.spawn(self.boot())
        elif requested_message == "Heartbeat":
            self.sim.spawn(self.sim.heartbeat())
        elif requested_message in ("MeterValues", "TransactionEvent"):
            self.sim.spawn(self.sim.send_meter_values())
        elif requested_message == "StatusNotification":
            for c, state in self.sim.connectors.items():
                if evse_id in (None, 0, c):
                    self.sim.spawn(self.sim.report_status(state, force=True))
