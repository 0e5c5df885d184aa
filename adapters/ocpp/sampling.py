"""MeterValues (both versions) to typed `MeterSample`s in W, Wh, A, V and %.

Takes the snake_case `meter_value` list as the handlers receive it. A 1.6 sampled value
carries `value` as a string and `unit`; a 2.0.1 one carries a number and
`unit_of_measure {unit, multiplier}`. A measurand left out means the energy register.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from adapters.ocpp.timestamps import from_wire
from ems.events import MeterSample

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
CURRENT = "Current.Import"
VOLTAGE = "Voltage"
SOC = "SoC"

_SCALE_TO_BASE = {"W": 1.0, "kW": 1000.0, "Wh": 1.0, "kWh": 1000.0, "A": 1.0, "V": 1.0}
_DEFAULT_UNIT = {ENERGY: "Wh", POWER: "W", CURRENT: "A", VOLTAGE: "V", SOC: "Percent"}
_PHASE = re.compile(r"^L([123])(-N)?$")


def _number(sampled: dict[str, Any]) -> float | None:
    value = sampled.get("value")
    if sampled.get("format") == "SignedData":
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    unit_of_measure = sampled.get("unit_of_measure")
    if isinstance(unit_of_measure, dict):
        number *= 10.0 ** int(unit_of_measure.get("multiplier", 0) or 0)
        unit = unit_of_measure.get("unit")
    else:
        unit = sampled.get("unit")
    measurand = sampled.get("measurand") or ENERGY
    unit = unit or _DEFAULT_UNIT.get(measurand)
    if measurand == SOC:
        return number
    scale = _SCALE_TO_BASE.get(str(unit))
    if scale is None:
        return None
    return number * scale


def _phase_index(phase: object) -> int | None:
    if not isinstance(phase, str):
        return None
    match = _PHASE.match(phase)
    return int(match.group(1)) - 1 if match else None


def samples_from_meter_values(
    charger_id: str,
    connector_id: int,
    transaction_id: str | None,
    meter_values: Sequence[dict[str, Any]],
    received_at: datetime,
) -> tuple[list[MeterSample], str | None]:
    """One `MeterSample` per timestamped entry, and the reading context of the first
    sampled value (`Sample.Periodic`, `Transaction.Begin`, …)."""
    samples: list[MeterSample] = []
    context: str | None = None
    for entry in meter_values:
        energy_wh: float | None = None
        power_w: float | None = None
        energy_phases: list[float] = []
        power_phases: list[float] = []
        current: list[float | None] = [None, None, None]
        voltage: list[float | None] = [None, None, None]
        soc: float | None = None
        for sampled in entry.get("sampled_value") or ():
            if not isinstance(sampled, dict):
                continue
            if context is None:
                context = sampled.get("context")
            number = _number(sampled)
            if number is None:
                continue
            measurand = sampled.get("measurand") or ENERGY
            raw_phase = sampled.get("phase")
            phase = _phase_index(raw_phase)
            if raw_phase is not None and phase is None:
                continue  # neutral or line-to-line: not what the controller allocates
            if measurand == ENERGY:
                if phase is None:
                    energy_wh = number
                else:
                    energy_phases.append(number)
            elif measurand == POWER:
                if phase is None:
                    power_w = number
                else:
                    power_phases.append(number)
            elif measurand in (CURRENT, VOLTAGE):
                # Without a phase it comes from a single-phase charger: its L1.
                target = current if measurand == CURRENT else voltage
                target[0 if phase is None else phase] = number
            elif measurand == SOC:
                soc = number
        if energy_wh is None and energy_phases:
            energy_wh = sum(energy_phases)
        if power_w is None and power_phases:
            power_w = sum(power_phases)
        samples.append(
            MeterSample(
                charger_id=charger_id,
                connector_id=connector_id,
                at=from_wire(entry.get("timestamp"), received_at),
                transaction_id=transaction_id,
                current_a=(current[0], current[1], current[2]),
                power_w=power_w,
                energy_wh=energy_wh,
                voltage_v=(voltage[0], voltage[1], voltage[2]),
                soc_pct=soc,
            )
        )
    return samples, context
