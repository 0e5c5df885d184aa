"""Whole sessions over real WebSockets, for both protocol versions."""

from __future__ import annotations

from datetime import UTC, datetime

from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from adapters.ocpp import CentralSystem
from adapters.storage import SqliteStore, TransactionState
from ems.events import (
    ChargerCapabilities,
    ChargerConnected,
    ConnectorStatus,
    EnergyNeed,
    MeterSample,
    SessionEnded,
    SessionStarted,
    StatusChanged,
)
from tests.adapters.ocpp.stations import Events, station16, station201

NOW = "2024-05-01T12:00:00Z"


def meter_value_16(energy_kwh: str, power_kw: str, currents: tuple[str, str, str]) -> dict:
    sampled = [
        {"value": energy_kwh, "measurand": "Energy.Active.Import.Register", "unit": "kWh"},
        {"value": power_kw, "measurand": "Power.Active.Import", "unit": "kW"},
        {"value": "41.5", "measurand": "SoC", "unit": "Percent", "location": "EV"},
        {"value": "229.0", "measurand": "Voltage", "phase": "L1-N", "unit": "V"},
    ]
    sampled += [
        {"value": a, "measurand": "Current.Import", "phase": p, "unit": "A"}
        for a, p in zip(currents, ("L1", "L2", "L3"), strict=True)
    ]
    for s in sampled:
        s["context"] = "Sample.Periodic"
    return {"timestamp": NOW, "sampledValue": sampled}


async def test_session_lifecycle_v16(
    system: CentralSystem, store: SqliteStore, events: Events
) -> None:
    async with station16(system, "CP1") as cp:
        boot = await cp.call(
            call16.BootNotification(
                charge_point_vendor="Acme",
                charge_point_model="Wall",
                charge_point_serial_number="S1",
                firmware_version="1.2",
            ),
            suppress=False,
        )
        assert boot.status == "Accepted"
        assert boot.interval == 300
        assert boot.current_time.endswith("Z")
        connected = await events.wait_for(ChargerConnected, lambda e: e.vendor == "Acme")
        assert connected.protocol == "ocpp1.6"
        caps = await events.wait_for(ChargerCapabilities)
        assert (caps.max_stack_level, caps.rate_units, caps.max_periods) == (3, ("A",), 5)
        assert caps.smart_charging

        heartbeat = await cp.call(call16.Heartbeat(), suppress=False)
        assert heartbeat.current_time.endswith("Z")

        await cp.call(
            call16.StatusNotification(connector_id=1, error_code="NoError", status="Preparing"),
            suppress=False,
        )
        status = await events.wait_for(StatusChanged)
        assert (status.connector_id, status.status, status.error_code) == (
            1,
            ConnectorStatus.PREPARING,
            None,
        )

        assert (await cp.call(call16.Authorize(id_tag="TAG1"))).id_tag_info["status"] == (
            "Accepted"
        )
        assert (await cp.call(call16.Authorize(id_tag="NOPE"))).id_tag_info["status"] == ("Invalid")

        started = await cp.call(
            call16.StartTransaction(connector_id=1, id_tag="TAG1", meter_start=1000, timestamp=NOW),
            suppress=False,
        )
        transaction_id = started.transaction_id
        assert isinstance(transaction_id, int)
        assert started.id_tag_info["status"] == "Accepted"
        session = await events.wait_for(SessionStarted)
        assert session.transaction_id == str(transaction_id)
        assert session.meter_start_wh == 1000.0
        assert session.at == datetime(2024, 5, 1, 12, tzinfo=UTC)

        await cp.call(
            call16.MeterValues(
                connector_id=1,
                transaction_id=transaction_id,
                meter_value=[meter_value_16("1.5", "7.2", ("10.0", "10.5", "9.5"))],
            ),
            suppress=False,
        )
        sample = await events.wait_for(MeterSample)
        assert sample.energy_wh == 1500.0
        assert sample.power_w == 7200.0
        assert sample.current_a == (10.0, 10.5, 9.5)
        assert sample.voltage_v == (229.0, None, None)
        assert sample.soc_pct == 41.5
        assert sample.transaction_id == str(transaction_id)
        assert store.count_meter_samples(str(transaction_id)) == 1

        await cp.call(
            call16.StopTransaction(
                meter_stop=9000,
                timestamp=NOW,
                transaction_id=transaction_id,
                reason="EVDisconnected",
            ),
            suppress=False,
        )
        ended = await events.wait_for(SessionEnded)
        assert (ended.transaction_id, ended.meter_stop_wh, ended.reason) == (
            str(transaction_id),
            9000.0,
            "EVDisconnected",
        )

    record = store.find_transaction("CP1", str(transaction_id))
    assert record is not None
    assert record.state == TransactionState.STOPPED
    charger = store.get_charger("CP1")
    assert charger is not None
    assert (charger.vendor, charger.model, charger.serial, charger.firmware) == (
        "Acme",
        "Wall",
        "S1",
        "1.2",
    )
    assert charger.capabilities is not None
    assert charger.capabilities["max_stack_level"] == 3


async def test_session_lifecycle_v201(
    system: CentralSystem, store: SqliteStore, events: Events
) -> None:
    async with station201(system, "CS1") as cs:
        boot = await cs.call(
            call201.BootNotification(
                charging_station={"model": "Pole", "vendor_name": "Acme", "serial_number": "S2"},
                reason="PowerUp",
            ),
            suppress=False,
        )
        assert boot.status == "Accepted"
        caps = await events.wait_for(ChargerCapabilities)
        assert (caps.max_stack_level, caps.rate_units, caps.max_periods) == (2, ("A", "W"), 8)

        await cs.call(
            call201.StatusNotification(
                timestamp=NOW, connector_status="Occupied", evse_id=1, connector_id=1
            ),
            suppress=False,
        )
        assert (await events.wait_for(StatusChanged)).status == ConnectorStatus.OCCUPIED
        authorized = await cs.call(
            call201.Authorize(id_token={"idToken": "NOPE", "type": "ISO14443"}), suppress=False
        )
        assert authorized.id_token_info["status"] == "Unknown"

        def event(kind: str, seq_no: int, **extra: object) -> call201.TransactionEvent:
            return call201.TransactionEvent(
                event_type=kind,
                timestamp=NOW,
                trigger_reason="Authorized",
                seq_no=seq_no,
                transaction_info={"transactionId": "tx-abc", "chargingState": "Charging"},
                **extra,
            )

        answer = await cs.call(
            event(
                "Started",
                0,
                evse={"id": 1, "connectorId": 1},
                id_token={"idToken": "TAG1", "type": "ISO14443"},
            ),
            suppress=False,
        )
        assert answer.id_token_info["status"] == "Accepted"
        started = await events.wait_for(SessionStarted)
        assert (started.transaction_id, started.connector_id, started.id_token) == (
            "tx-abc",
            1,
            "TAG1",
        )
        meter = [
            {
                "timestamp": NOW,
                "sampledValue": [
                    {
                        "value": 2.5,
                        "measurand": "Energy.Active.Import.Register",
                        "unitOfMeasure": {"unit": "kWh"},
                    },
                    {
                        "value": 11,
                        "measurand": "Power.Active.Import",
                        "unitOfMeasure": {"unit": "W", "multiplier": 3},
                    },
                    {"value": 16, "measurand": "Current.Import", "phase": "L2"},
                ],
            }
        ]
        await cs.call(event("Updated", 1, meter_value=meter), suppress=False)
        sample = await events.wait_for(MeterSample)
        assert (sample.energy_wh, sample.power_w, sample.current_a) == (
            2500.0,
            11000.0,
            (None, 16.0, None),
        )
        # The same seqNo again (a resend after a reconnect) is answered, not recorded twice.
        await cs.call(event("Updated", 1, meter_value=meter), suppress=False)
        await cs.call(
            call201.NotifyEVChargingNeeds(
                evse_id=1,
                charging_needs={
                    "requestedEnergyTransfer": "AC_three_phase",
                    "departureTime": "2024-05-01T17:30:00Z",
                    "acChargingParameters": {
                        "energyAmount": 30000,
                        "evMinCurrent": 6,
                        "evMaxCurrent": 32,
                        "evMaxVoltage": 400,
                    },
                },
            ),
            suppress=False,
        )
        need = await events.wait_for(EnergyNeed)
        assert need.energy_wh == 30000.0
        assert need.departure == datetime(2024, 5, 1, 17, 30, tzinfo=UTC)
        assert (need.min_current_a, need.max_current_a) == (6.0, 32.0)

        ended_event = event("Ended", 2)
        ended_event.transaction_info = {"transactionId": "tx-abc", "stoppedReason": "Local"}
        await cs.call(ended_event, suppress=False)
        ended = await events.wait_for(SessionEnded)
        assert (ended.transaction_id, ended.reason) == ("tx-abc", "Local")

    assert len(events.of(MeterSample)) == 1
    assert store.count_meter_samples("tx-abc") == 1
    record = store.find_transaction("CS1", "tx-abc")
    assert record is not None
    assert (record.state, record.last_seq_no) == (TransactionState.STOPPED, 2)


async def test_data_transfer_and_firmware_status_are_answered_and_logged(
    system: CentralSystem, store: SqliteStore
) -> None:
    async with station16(system, "CP1") as cp:
        answer = await cp.call(
            call16.DataTransfer(vendor_id="com.acme", message_id="x", data="1"), suppress=False
        )
        assert answer.status == "UnknownVendorId"
        await cp.call(call16.FirmwareStatusNotification(status="Installed"), suppress=False)
    async with station201(system, "CS1") as cs:
        await cs.call(call201.FirmwareStatusNotification(status="Installed"), suppress=False)
    charger = store.get_charger("CP1")
    assert charger is not None
    assert charger.firmware_status == "Installed"
    assert "data_transfer" in [e.kind for e in store.list_events("CP1")]
