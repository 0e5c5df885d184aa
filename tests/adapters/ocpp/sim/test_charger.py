"""The simulated charger over real websockets against a bare test central system, for both
protocol versions. Time is a ManualClock: profile expiry is a clock step, not a sleep."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from ocpp import v16, v201

from adapters.ocpp.profiles import ChargerCaps, render_set_charging_profile
from adapters.ocpp.sim import (
    OCPP16,
    OCPP201,
    ChargerBehaviour,
    ManualClock,
    SimChargerConfig,
    SimulatedCharger,
    SimulatedEV,
)
from ems.commands import LimitPeriod, ProfilePurpose, SetLimit
from tests.adapters.ocpp.sim.central import Central, running_central, wait_until

BOTH = pytest.mark.parametrize("protocol", [OCPP16, OCPP201])
QUIET = 10_000.0  # simulated seconds: periodic loops stay out of the way


class Rig:
    def __init__(self, central: Central, url: str, clock: ManualClock) -> None:
        self.central, self.url, self.clock = central, url, clock
        self.chargers: list[SimulatedCharger] = []

    async def charger(self, protocol: str, **config: Any) -> SimulatedCharger:
        behaviour = config.pop("behaviour", ChargerBehaviour())
        cfg = SimChargerConfig(
            charger_id=f"CP{len(self.chargers) + 1}",
            protocol=protocol,
            heartbeat_interval_s=QUIET,
            meter_interval_s=QUIET,
            behaviour=behaviour,
            **config,
        )
        sim = SimulatedCharger(cfg, self.url, clock=self.clock)
        self.chargers.append(sim)
        await sim.start(timeout_s=5)
        return sim

    def limit(
        self,
        purpose: ProfilePurpose,
        limit_a: float,
        connector_id: int = 1,
        **kw: Any,
    ) -> SetLimit:
        return SetLimit(
            charger_id="CP1",
            connector_id=connector_id,
            purpose=purpose,
            periods=(LimitPeriod(0, limit_a, kw.pop("number_phases", None)),),
            start=self.clock() - timedelta(seconds=10),
            reason="test",
            **kw,
        )

    async def send(
        self,
        sim: SimulatedCharger,
        command: SetLimit,
        caps: ChargerCaps | None = None,
        profile_id: int = 1,
    ) -> str:
        protocol = sim.config.protocol
        payload = render_set_charging_profile(command, protocol, caps or ChargerCaps(), profile_id)
        station = self.central.stations[sim.config.charger_id]
        if protocol == OCPP16:
            request: Any = v16.call.SetChargingProfile(
                connector_id=payload["connectorId"],
                cs_charging_profiles=payload["csChargingProfiles"],
            )
        else:
            request = v201.call.SetChargingProfile(
                evse_id=payload["evseId"], charging_profile=payload["chargingProfile"]
            )
        result = await station.call(request, suppress=False)
        return str(result.status)

    async def call(self, sim: SimulatedCharger, request: Any) -> Any:
        return await self.central.stations[sim.config.charger_id].call(request, suppress=False)


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    async with running_central() as (central, url):
        r = Rig(central, url, ManualClock())
        try:
            yield r
        finally:
            for sim in r.chargers:
                await sim.stop()


def samples(payload: dict[str, Any]) -> dict[tuple[str, str | None], float]:
    """measurand/phase → value of the last meter value in a MeterValues or TransactionEvent."""
    values = payload["meter_value"][-1]["sampled_value"]
    return {(v["measurand"], v.get("phase")): float(v["value"]) for v in values}


@BOTH
async def test_boots_and_reports_status(rig: Rig, protocol: str) -> None:
    await rig.charger(protocol, connectors=2)
    assert len(rig.central.of("BootNotification")) == 1
    await wait_until(lambda: len(rig.central.of("StatusNotification")) == 2)
    statuses = rig.central.of("StatusNotification")
    key = "status" if protocol == OCPP16 else "connector_status"
    assert [s[key] for s in statuses] == ["Available", "Available"]


@BOTH
async def test_session_and_meter_values(rig: Rig, protocol: str) -> None:
    sim = await rig.charger(protocol)
    tx = await sim.plug_in(1, SimulatedEV(max_current_a=16.0, soc_pct=20.0))
    assert tx is not None
    assert sim.draw_a(1) == (16.0, 16.0, 16.0)
    rig.clock.advance(3600)
    await sim.send_meter_values()
    if protocol == OCPP16:
        assert rig.central.of("StartTransaction")[0]["connector_id"] == 1
        report = rig.central.of("MeterValues")[-1]
        assert report["transaction_id"] == int(tx)
    else:
        events = rig.central.of("TransactionEvent")
        assert events[0]["event_type"] == "Started"
        report = events[-1]
        assert report["event_type"] == "Updated"
        assert [e["seq_no"] for e in events] == list(range(len(events)))
    values = samples(report)
    assert values[("Current.Import", "L1")] == 16.0
    assert values[("Current.Import", "L3")] == 16.0
    assert values[("Power.Active.Import", None)] == 11040.0
    assert values[("Energy.Active.Import.Register", None)] == pytest.approx(11040.0)
    assert values[("SoC", None)] == pytest.approx(20.0 + 100 * 11040 / 60000, abs=0.01)

    await sim.unplug(1)
    if protocol == OCPP16:
        assert rig.central.of("StopTransaction")[0]["meter_stop"] == 11040
    else:
        assert rig.central.of("TransactionEvent")[-1]["event_type"] == "Ended"


@BOTH
async def test_obeys_tx_profile(rig: Rig, protocol: str) -> None:
    sim = await rig.charger(protocol)
    tx = await sim.plug_in(1, SimulatedEV(max_current_a=32.0))
    assert sim.draw_a(1) == (32.0, 32.0, 32.0)
    command = rig.limit(ProfilePurpose.TX, 10.07, transaction_id=tx, duration_s=600)
    assert await rig.send(sim, command) == "Accepted"
    assert sim.limit_a(1) == 10.0
    assert sim.draw_a(1) == (10.0, 10.0, 10.0)
    await wait_until(lambda: sim.connectors[1].reported == "Charging")


async def _tight_tx_over_tx_default(rig: Rig, protocol: str) -> SimulatedCharger:
    """A charging EV under a 16 A TxDefaultProfile (id 1) and a 70 s 8 A TxProfile (id 2)."""
    sim = await rig.charger(protocol)
    tx = await sim.plug_in(1, SimulatedEV(max_current_a=32.0))
    assert (
        await rig.send(sim, rig.limit(ProfilePurpose.TX_DEFAULT, 16.0), profile_id=1) == "Accepted"
    )
    tight = rig.limit(ProfilePurpose.TX, 8.0, transaction_id=tx, duration_s=70)
    assert await rig.send(sim, tight, profile_id=2) == "Accepted"
    return sim


@BOTH
async def test_tx_profile_expiry_falls_back_to_tx_default(rig: Rig, protocol: str) -> None:
    sim = await _tight_tx_over_tx_default(rig, protocol)
    assert sim.draw_a(1) == (8.0, 8.0, 8.0)
    rig.clock.advance(59)  # the profile started 10 s ago: 1 s left
    assert sim.draw_a(1) == (8.0, 8.0, 8.0)
    rig.clock.advance(1)
    assert sim.limit_a(1) == 16.0
    assert sim.draw_a(1) == (16.0, 16.0, 16.0)


@BOTH
async def test_watts_only_charger(rig: Rig, protocol: str) -> None:
    sim = await rig.charger(protocol, behaviour=ChargerBehaviour(rate_units=("W",)))
    tx = await sim.plug_in(1, SimulatedEV(max_current_a=32.0))
    command = rig.limit(ProfilePurpose.TX, 16.0, transaction_id=tx, duration_s=600)
    assert await rig.send(sim, command) == "Rejected"  # rendered in A
    assert await rig.send(sim, command, ChargerCaps(rate_units=("W",))) == "Accepted"
    assert sim.draw_a(1) == pytest.approx((16.0, 16.0, 16.0))


@BOTH
async def test_single_phase_ev_under_watt_limit(rig: Rig, protocol: str) -> None:
    sim = await rig.charger(protocol, behaviour=ChargerBehaviour(rate_units=("W",)))
    tx = await sim.plug_in(1, SimulatedEV(max_current_a=32.0, charger_phases=(2,)))
    command = rig.limit(ProfilePurpose.TX, 13.0, transaction_id=tx, duration_s=600, number_phases=1)
    assert await rig.send(sim, command, ChargerCaps(rate_units=("W",))) == "Accepted"
    assert sim.draw_a(1) == pytest.approx((0.0, 13.0, 0.0))


@BOTH
async def test_below_iec_minimum_pauses(rig: Rig, protocol: str) -> None:
    sim = await rig.charger(protocol)
    tx = await sim.plug_in(1, SimulatedEV(max_current_a=32.0))
    command = rig.limit(ProfilePurpose.TX, 5.9, transaction_id=tx, duration_s=600)
    assert await rig.send(sim, command) == "Accepted"
    assert sim.draw_a(1) == (0.0, 0.0, 0.0)
    await wait_until(lambda: sim.connectors[1].reported == "SuspendedEVSE")


@BOTH
async def test_station_max_caps_the_sum(rig: Rig, protocol: str) -> None:
    sim = await rig.charger(protocol, connectors=2)
    await sim.plug_in(1, SimulatedEV(max_current_a=16.0))
    await sim.plug_in(2, SimulatedEV(max_current_a=16.0))
    assert await rig.send(sim, rig.limit(ProfilePurpose.STATION_MAX, 24.0)) == "Accepted"
    assert sim.draw_a(1) == (16.0, 16.0, 16.0)
    assert sim.draw_a(2) == (8.0, 8.0, 8.0)


@BOTH
async def test_tx_profile_without_transaction_is_rejected(rig: Rig, protocol: str) -> None:
    sim = await rig.charger(protocol)
    command = rig.limit(ProfilePurpose.TX, 10.0, transaction_id="99", duration_s=60)
    assert await rig.send(sim, command) == "Rejected"


@BOTH
async def test_stack_level_above_max_is_rejected(rig: Rig, protocol: str) -> None:
    sim = await rig.charger(protocol, behaviour=ChargerBehaviour(max_stack_level=0))
    await sim.plug_in(1, SimulatedEV())
    assert await rig.send(sim, rig.limit(ProfilePurpose.TX_DEFAULT, 10.0, stack_level=1)) == (
        "Rejected"
    )
    assert await rig.send(sim, rig.limit(ProfilePurpose.TX_DEFAULT, 10.0, stack_level=0)) == (
        "Accepted"
    )


@BOTH
async def test_non_compliant_charger_accepts_but_ignores(rig: Rig, protocol: str) -> None:
    sim = await rig.charger(protocol, behaviour=ChargerBehaviour(ignore_profiles=True))
    tx = await sim.plug_in(1, SimulatedEV(max_current_a=20.0))
    command = rig.limit(ProfilePurpose.TX, 8.0, transaction_id=tx, duration_s=600)
    assert await rig.send(sim, command) == "Accepted"
    assert sim.limit_a(1) == 8.0
    assert sim.draw_a(1) == (20.0, 20.0, 20.0)


@BOTH
async def test_clear_and_composite(rig: Rig, protocol: str) -> None:
    sim = await _tight_tx_over_tx_default(rig, protocol)
    if protocol == OCPP16:
        result = await rig.call(sim, v16.call.GetCompositeSchedule(connector_id=1, duration=300))
        periods = result.charging_schedule["charging_schedule_period"]
    else:
        result = await rig.call(sim, v201.call.GetCompositeSchedule(duration=300, evse_id=1))
        periods = result.schedule["charging_schedule_period"]
    assert [(p["start_period"], float(p["limit"])) for p in periods] == [(0, 8.0), (60, 16.0)]

    if protocol == OCPP16:
        cleared = await rig.call(
            sim, v16.call.ClearChargingProfile(connector_id=1, charging_profile_purpose="TxProfile")
        )
    else:
        cleared = await rig.call(sim, v201.call.ClearChargingProfile(charging_profile_id=2))
    assert cleared.status == "Accepted"
    assert sim.draw_a(1) == (16.0, 16.0, 16.0)


async def test_configuration_keys_16(rig: Rig) -> None:
    behaviour = ChargerBehaviour(rate_units=("W",), max_stack_level=3, max_periods=5)
    sim = await rig.charger(OCPP16, behaviour=behaviour)
    result = await rig.call(
        sim,
        v16.call.GetConfiguration(
            key=[
                "ChargeProfileMaxStackLevel",
                "ChargingScheduleAllowedChargingRateUnit",
                "ChargingScheduleMaxPeriods",
                "SupportedFeatureProfiles",
                "NoSuchKey",
            ]
        ),
    )
    values = {k["key"]: k["value"] for k in result.configuration_key}
    assert values == {
        "ChargeProfileMaxStackLevel": "3",
        "ChargingScheduleAllowedChargingRateUnit": "Power",
        "ChargingScheduleMaxPeriods": "5",
        "SupportedFeatureProfiles": "Core,SmartCharging,RemoteTrigger",
    }
    assert result.unknown_key == ["NoSuchKey"]


async def test_smart_charging_variables_201(rig: Rig) -> None:
    sim = await rig.charger(OCPP201, behaviour=ChargerBehaviour(max_stack_level=2))
    wanted = [("ProfileStackLevel", None), ("RateUnit", None), ("PeriodsPerSchedule", None)]
    data = [
        {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": n}} for n, _ in wanted
    ]
    data.append({"component": {"name": "NoSuchCtrlr"}, "variable": {"name": "X"}})
    result = await rig.call(sim, v201.call.GetVariables(get_variable_data=data))
    got = [(r["attribute_status"], r.get("attribute_value")) for r in result.get_variable_result]
    assert got == [
        ("Accepted", "2"),
        ("Accepted", "A,W"),
        ("Accepted", "24"),
        ("UnknownComponent", None),
    ]


@BOTH
async def test_remote_start_and_stop(rig: Rig, protocol: str) -> None:
    sim = await rig.charger(protocol)
    sim.connectors[1].ev = SimulatedEV(max_current_a=10.0)
    if protocol == OCPP16:
        result = await rig.call(sim, v16.call.RemoteStartTransaction(id_tag="R1", connector_id=1))
    else:
        result = await rig.call(
            sim,
            v201.call.RequestStartTransaction(
                id_token={"id_token": "R1", "type": "ISO14443"}, remote_start_id=1, evse_id=1
            ),
        )
    assert result.status == "Accepted"
    await wait_until(lambda: sim.transaction_id(1) is not None)
    assert sim.draw_a(1) == (10.0, 10.0, 10.0)
    tx = sim.transaction_id(1)
    assert tx is not None
    if protocol == OCPP16:
        result = await rig.call(sim, v16.call.RemoteStopTransaction(transaction_id=int(tx)))
    else:
        result = await rig.call(sim, v201.call.RequestStopTransaction(transaction_id=tx))
    assert result.status == "Accepted"
    await wait_until(lambda: sim.transaction_id(1) is None)


async def test_clock_unset_stamps_1970_until_heartbeat(rig: Rig) -> None:
    sim = await rig.charger(OCPP16, behaviour=ChargerBehaviour(clock_unset=True))
    await wait_until(lambda: len(rig.central.of("StatusNotification")) == 1)
    assert rig.central.of("StatusNotification")[0]["timestamp"].startswith("1970-01-01T")
    await sim.heartbeat()
    assert sim.timestamp()[:4] >= "2024"


async def test_reset_reboots(rig: Rig) -> None:
    sim = await rig.charger(OCPP201)
    await sim.plug_in(1, SimulatedEV())
    result = await rig.call(sim, v201.call.Reset(type="Immediate"))
    assert result.status == "Accepted"
    await wait_until(lambda: len(rig.central.of("BootNotification")) == 2)
    assert rig.central.of("TransactionEvent")[-1]["event_type"] == "Ended"
    assert sim.transaction_id(1) is None


@BOTH
async def test_ev_follows_a_lower_limit_only_after_its_reaction_time(
    rig: Rig, protocol: str
) -> None:
    sim = await rig.charger(protocol, behaviour=ChargerBehaviour(reaction_s=2.0))
    tx = await sim.plug_in(1, SimulatedEV(max_current_a=32.0))
    assert sim.draw_a(1) == (32.0, 32.0, 32.0)
    low = rig.limit(ProfilePurpose.TX, 10.0, transaction_id=tx, duration_s=600)
    assert await rig.send(sim, low, profile_id=1) == "Accepted"
    assert sim.limit_a(1) == 10.0
    assert sim.draw_a(1) == (32.0, 32.0, 32.0)  # still at the old limit
    rig.clock.advance(1.9)
    assert sim.draw_a(1) == (32.0, 32.0, 32.0)
    rig.clock.advance(0.1)
    assert sim.draw_a(1) == (10.0, 10.0, 10.0)
    high = rig.limit(ProfilePurpose.TX, 16.0, transaction_id=tx, duration_s=600)
    assert await rig.send(sim, high, profile_id=1) == "Accepted"
    assert sim.draw_a(1) == (16.0, 16.0, 16.0)  # a raise is taken at once


@BOTH
async def test_a_charger_turning_non_compliant_draws_its_maximum(rig: Rig, protocol: str) -> None:
    sim = await rig.charger(protocol)
    tx = await sim.plug_in(1, SimulatedEV(max_current_a=32.0))
    command = rig.limit(ProfilePurpose.TX, 8.0, transaction_id=tx, duration_s=600)
    assert await rig.send(sim, command) == "Accepted"
    assert sim.draw_a(1) == (8.0, 8.0, 8.0)
    sim.set_behaviour(ChargerBehaviour(ignore_profiles=True))
    assert sim.draw_a(1) == (32.0, 32.0, 32.0)
    sim.set_behaviour(ChargerBehaviour(reject_profiles=True))
    assert await rig.send(sim, command) == "Rejected"


async def test_reconnects_after_its_reconnect_delay_keeping_its_profiles(rig: Rig) -> None:
    sim = await rig.charger(OCPP16, behaviour=ChargerBehaviour(reconnect_delay_s=1.5))
    tx = await sim.plug_in(1, SimulatedEV(max_current_a=32.0))
    command = rig.limit(ProfilePurpose.TX, 8.0, transaction_id=tx, duration_s=600)
    assert await rig.send(sim, command) == "Accepted"
    await rig.central.stations[sim.config.charger_id]._connection.close()
    await wait_until(lambda: not sim.connected)
    lost = time.monotonic()
    assert sim.draw_a(1) == (8.0, 8.0, 8.0)
    await wait_until(lambda: len(rig.central.of("BootNotification")) == 2, timeout_s=5)
    assert time.monotonic() - lost >= 1.4
    assert sim.transaction_id(1) == tx
    assert sim.draw_a(1) == (8.0, 8.0, 8.0)
