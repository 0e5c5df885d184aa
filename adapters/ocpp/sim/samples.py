"""The measurands a simulated charger reports; each OCPP version writes a value its own way."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.ocpp.sim.charger import MeterSnapshot

PHASES = ("L1", "L2", "L3")

WriteValue = Callable[[float, str], dict[str, Any]]
"""Turns a value and its unit into the version's sampled-value fields for them."""


def sampled_values(
    snapshot: MeterSnapshot, context: str, write_value: WriteValue
) -> list[dict[str, Any]]:
    """One sampled value per measurand: the phase currents, voltage, power, energy, SoC."""
    measured: list[tuple[float, str, str, str | None]] = [
        (a, "Current.Import", "A", phase)
        for phase, a in zip(PHASES, snapshot.current_a, strict=True)
    ]
    measured += [
        (snapshot.voltage_v, "Voltage", "V", "L1-N"),
        (snapshot.power_w, "Power.Active.Import", "W", None),
        (snapshot.energy_wh, "Energy.Active.Import.Register", "Wh", None),
    ]
    if snapshot.soc_pct is not None:
        measured.append((snapshot.soc_pct, "SoC", "Percent", None))
    values = []
    for value, measurand, unit, phase in measured:
        sample = write_value(value, unit) | {"context": context, "measurand": measurand}
        if phase is not None:
            sample["phase"] = phase
        values.append(sample)
    return values
