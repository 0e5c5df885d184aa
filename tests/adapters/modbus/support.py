"""Shared by the Modbus tests: a hand-driven clock and meter settings for a simulator."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.modbus.config import MeterSettings
from adapters.modbus.register_map import RegisterSpec
from ems.events import MeterReading

EPOCH = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


class ManualClock:
    """Simulated seconds for the simulator and matching UTC times for the reader."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def monotonic(self) -> float:
        return self.seconds

    def utc(self) -> datetime:
        return EPOCH + timedelta(seconds=self.seconds)

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


def settings_for(port: int, map_name: str = "sdm630", **overrides: Any) -> MeterSettings:
    settings = MeterSettings(
        id="grid",
        map=map_name,
        host="127.0.0.1",
        port=port,
        timeout_s=0.3,
        reconnect_min_s=0.02,
        reconnect_max_s=0.05,
    )
    return replace(settings, **overrides)


_RESOLUTION = {"current": 0.01, "voltage": 0.1, "power": 1.0, "energy": 1.0, "frequency": 0.01}


def tolerance(spec: RegisterSpec, value: float) -> float:
    """What the meter's encoding can lose: float rounding, or half an integer step."""
    if spec.data_type.is_float:
        return 1e-6 * abs(value) + 1e-6
    step = spec.factor
    if spec.scale_factor_address is not None:
        step = max(step, _RESOLUTION[spec.quantity.kind])
    return step / 2 * 1.001 + 1e-6 * abs(value)


def reading_value(reading: MeterReading, quantity: str) -> float | None:
    kind, _, phase = quantity.partition("_l")
    if phase:
        field = {"current": "current_a", "voltage": "voltage_v", "power": "power_w"}[kind]
        values: tuple[float | None, ...] = getattr(reading, field)
        return values[int(phase) - 1]
    return {
        "total_power": reading.total_power_w,
        "energy_import": reading.energy_import_wh,
        "frequency": reading.frequency_hz,
    }[quantity]
