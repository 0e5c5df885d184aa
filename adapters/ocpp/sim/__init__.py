"""Simulated OCPP 1.6 and 2.0.1 charge points with EVs, for tests, the demo and benchmarks."""

from adapters.ocpp.sim.charger import (
    OCPP16,
    OCPP201,
    ChargerBehaviour,
    ConnectorState,
    MeterSnapshot,
    SimChargerConfig,
    SimulatedCharger,
)
from adapters.ocpp.sim.clock import Clock, ManualClock, ScaledClock
from adapters.ocpp.sim.ev import IEC_MIN_CURRENT_A, SimulatedEV
from adapters.ocpp.sim.smart import InstalledProfile, Limit, ProfileStore, Transaction

__all__ = [
    "IEC_MIN_CURRENT_A",
    "OCPP16",
    "OCPP201",
    "ChargerBehaviour",
    "Clock",
    "ConnectorState",
    "InstalledProfile",
    "Limit",
    "ManualClock",
    "MeterSnapshot",
    "ProfileStore",
    "ScaledClock",
    "SimChargerConfig",
    "SimulatedCharger",
    "SimulatedEV",
    "Transaction",
]
