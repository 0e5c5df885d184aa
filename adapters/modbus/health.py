"""From decoded values to a MeterReading the controller can trust, or one marked invalid.

The checks, in order: values that were not available; everything zero (the signature of
the wrong function code on an Eastron meter); implausible values; a frozen meter (a
gateway that keeps serving the last values: identical voltages and a non-moving energy
counter over a window). Signs are normalised to import positive first.
"""

from __future__ import annotations

import math
from datetime import datetime

from adapters.modbus.config import MeterSettings, Sign
from adapters.modbus.decoding import Values
from adapters.modbus.failures import FailureKind, ReadFailure
from adapters.modbus.register_map import CurrentSign, Quantity, RegisterMap
from ems.events import MeterReading, PhaseValues

MAX_VOLTAGE_V = 300.0
"""Phase-to-neutral; above this a reading is implausible on a 230/400 V site."""
FREQUENCY_RANGE_HZ = (45.0, 65.0)

CURRENTS = (Quantity.CURRENT_L1, Quantity.CURRENT_L2, Quantity.CURRENT_L3)
VOLTAGES = (Quantity.VOLTAGE_L1, Quantity.VOLTAGE_L2, Quantity.VOLTAGE_L3)
POWERS = (Quantity.POWER_L1, Quantity.POWER_L2, Quantity.POWER_L3)


class FrozenWatch:
    """How long a meter's fingerprint (voltages and energy counter) has not changed."""

    def __init__(self) -> None:
        self._fingerprint: tuple[float | None, ...] | None = None
        self._since: datetime | None = None

    def unchanged_for_s(self, values: Values, at: datetime) -> float:
        moving = [values.get(q) for q in VOLTAGES]
        if all(v is None for v in moving):
            moving = [values.get(q) for q in CURRENTS]
        counter = values.get(Quantity.ENERGY_IMPORT)
        if counter is None:
            counter = values.get(Quantity.TOTAL_POWER)
        fingerprint = (*moving, counter)
        if all(v is None for v in fingerprint):
            return 0.0
        if fingerprint != self._fingerprint or self._since is None:
            self._fingerprint = fingerprint
            self._since = at
            return 0.0
        return (at - self._since).total_seconds()


def normalise_signs(register_map: RegisterMap, sign: Sign, values: Values) -> Values:
    """Import positive; currents signed like their phase's power where the meter gives
    magnitudes only."""
    result = dict(values)
    for current, power in zip(CURRENTS, POWERS, strict=True):
        amperes, watts = result.get(current), result.get(power)
        if register_map.current_sign is CurrentSign.FROM_POWER and amperes is not None:
            result[current] = math.copysign(abs(amperes), -1.0 if watts and watts < 0 else 1.0)
    if sign is Sign.EXPORT_POSITIVE:
        for quantity in (*CURRENTS, *POWERS, Quantity.TOTAL_POWER):
            if result.get(quantity) is not None:
                result[quantity] = -result[quantity]  # type: ignore[operator]
    if (
        result.get(Quantity.TOTAL_POWER) is None
        and Quantity.TOTAL_POWER not in register_map.quantities
    ):
        phases = [result.get(p) for p in POWERS]
        if all(p is not None for p in phases):
            result[Quantity.TOTAL_POWER] = sum(p for p in phases if p is not None)
    return result


def assess(
    meter_id: str,
    at: datetime,
    values: Values,
    unavailable: list[str],
    settings: MeterSettings,
    frozen: FrozenWatch,
) -> tuple[MeterReading, ReadFailure | None]:
    """The reading for normalised `values`, valid or not, with the failure if any."""
    frozen_s = frozen.unchanged_for_s(values, at)
    failure = None
    if unavailable:
        failure = ReadFailure(FailureKind.NOT_AVAILABLE, ", ".join(unavailable))
    elif _all_zero(values):
        failure = ReadFailure(
            FailureKind.ALL_ZERO, "every register read 0 (wrong function code 03/04 or map?)"
        )
    elif problems := _implausible(values, settings.max_current_a):
        failure = ReadFailure(FailureKind.OUT_OF_RANGE, "; ".join(problems))
    elif frozen_s >= settings.frozen_after_s:
        failure = ReadFailure(
            FailureKind.FROZEN,
            f"voltages and energy counter unchanged for {frozen_s:.0f} s",
        )
    reading = MeterReading(
        meter_id=meter_id,
        at=at,
        valid=failure is None,
        current_a=_phases(values, CURRENTS),
        voltage_v=_phases(values, VOLTAGES),
        power_w=_phases(values, POWERS),
        total_power_w=values.get(Quantity.TOTAL_POWER),
        energy_import_wh=values.get(Quantity.ENERGY_IMPORT),
        frequency_hz=values.get(Quantity.FREQUENCY),
        reason=None if failure is None else str(failure),
    )
    return reading, failure


def failed_reading(meter_id: str, at: datetime, failure: ReadFailure) -> MeterReading:
    """A read that produced no values: every value unknown, never 0."""
    return MeterReading(meter_id=meter_id, at=at, valid=False, reason=str(failure))


def _phases(values: Values, quantities: tuple[Quantity, Quantity, Quantity]) -> PhaseValues:
    return (values.get(quantities[0]), values.get(quantities[1]), values.get(quantities[2]))


def _all_zero(values: Values) -> bool:
    present = [v for v in values.values() if v is not None]
    has_supply = any(q in values for q in (*VOLTAGES, Quantity.FREQUENCY))
    return has_supply and len(present) >= 3 and all(v == 0.0 for v in present)


def _implausible(values: Values, max_current_a: float) -> list[str]:
    problems = []
    for quantity in VOLTAGES:
        volts = values.get(quantity)
        if volts is not None and not 0.0 <= volts <= MAX_VOLTAGE_V:
            problems.append(f"{quantity} {volts:.1f} V")
    for quantity in CURRENTS:
        amperes = values.get(quantity)
        if amperes is not None and abs(amperes) > max_current_a:
            problems.append(f"{quantity} {amperes:.1f} A")
    for quantity in (*POWERS, Quantity.TOTAL_POWER):
        watts = values.get(quantity)
        limit_w = 3 * max_current_a * MAX_VOLTAGE_V
        if watts is not None and abs(watts) > limit_w:
            problems.append(f"{quantity} {watts:.0f} W")
    hertz = values.get(Quantity.FREQUENCY)
    low, high = FREQUENCY_RANGE_HZ
    if hertz is not None and not low <= hertz <= high:
        problems.append(f"frequency {hertz:.2f} Hz")
    energy = values.get(Quantity.ENERGY_IMPORT)
    if energy is not None and energy < 0:
        problems.append(f"energy_import {energy:.0f} Wh")
    return problems
