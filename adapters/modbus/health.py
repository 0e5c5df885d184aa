"""From decoded values to a MeterReading the controller can trust, or one marked invalid.

The checks, in order: values that were not available; everything zero (the signature of
the wrong function code on an Eastron meter); implausible values; a frozen meter (a
gateway that keeps serving the last values: every value read unchanged over a window).
Signs are normalised to import positive first.

A wrong function code, word order or map rarely gives zeros or NaN: it gives numbers,
just wrong ones (a float32 with its words swapped reads 0.0003 V or 1.2e9 V). So the
plausibility checks hold each value against what a real supply allows (voltage near
nominal, frequency near 50 or 60 Hz) and the values against each other (a phase cannot
carry more power than its current and voltage allow, nor power and current in opposite
directions). Every reason names the quantity and the value read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime

from adapters.modbus.config import MeterSettings, Sign
from adapters.modbus.decoding import Values
from adapters.modbus.failures import FailureKind, ReadFailure
from adapters.modbus.register_map import CurrentSign, Quantity, RegisterMap
from ems.events import MeterReading, PhaseValues

VOLTAGE_TOLERANCE = 0.20
"""A phase voltage within ±20 % of nominal is plausible. A real supply stays within ±10 %
(EN 50160); a misread register lands orders of magnitude away."""
GRID_FREQUENCIES_HZ = (50.0, 60.0)
FREQUENCY_TOLERANCE_HZ = 5.0
"""A frequency within this of 50 or 60 Hz is plausible (grids hold ±1 Hz, islands more)."""
POWER_HEADROOM = 1.2
"""|P| ≤ |I| × V × this on a phase: the power factor is at most 1; the rest covers the
meter's accuracy and values sampled a little apart."""
POWER_SLACK_W = 50.0
"""Added to the bound above for the resolution of small currents (0.01 A × 230 V ≈ 2 W)."""
SIGN_MIN_A = 1.0
SIGN_MIN_W = 100.0
"""Power and current of a phase must point the same way once both are at least this
large; smaller values may differ in sign through a low power factor or noise."""
UNITS = {"current": "A", "voltage": "V", "power": "W", "energy": "Wh", "frequency": "Hz"}
SHOWN_FROZEN_VALUES = 3
"""How many of the unchanged values a frozen reason quotes."""

CURRENTS = (Quantity.CURRENT_L1, Quantity.CURRENT_L2, Quantity.CURRENT_L3)
VOLTAGES = (Quantity.VOLTAGE_L1, Quantity.VOLTAGE_L2, Quantity.VOLTAGE_L3)
POWERS = (Quantity.POWER_L1, Quantity.POWER_L2, Quantity.POWER_L3)


class FrozenWatch:
    """How long every value a meter gave (currents, powers, voltages, energy, frequency)
    has stayed exactly the same.

    A gateway caching a dead meter serves byte-identical answers; a live meter moves some
    value (a voltage, the energy counter, a power) on every read.
    """

    def __init__(self) -> None:
        self._fingerprint: tuple[tuple[Quantity, float | None], ...] | None = None
        self._since: datetime | None = None

    def unchanged_for_s(self, values: Values, at: datetime) -> float:
        fingerprint = tuple(sorted(values.items()))
        if all(v is None for _, v in fingerprint):
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
            FailureKind.ALL_ZERO,
            f"every value read 0 ({_quote(values)}): wrong function code 03/04 or map?",
        )
    elif problems := implausible(values, settings):
        failure = ReadFailure(FailureKind.OUT_OF_RANGE, "; ".join(problems))
    elif frozen_s >= settings.frozen_after_s:
        failure = ReadFailure(
            FailureKind.FROZEN,
            f"every value unchanged for {frozen_s:.0f} s ({_quote(values)}):"
            " a gateway serving a dead meter's last answer?",
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
        circuit=settings.circuit,
    )
    return reading, failure


def failed_reading(
    meter_id: str, at: datetime, failure: ReadFailure, circuit: str | None = None
) -> MeterReading:
    """A read that produced no values: every value unknown, never 0."""
    return MeterReading(
        meter_id=meter_id,
        at=at,
        valid=False,
        reason=str(failure),
        circuit=circuit,
        silent=failure.silent,
    )


def implausible(values: Values, settings: MeterSettings) -> list[str]:
    """Why `values` (normalised, import positive) cannot come from a real meter on a real
    supply: one line per problem, naming the quantity and its value. Empty when plausible."""
    return [problem for check in CHECKS for problem in check(values, settings)]


def _voltages(values: Values, settings: MeterSettings) -> Iterable[str]:
    """Each phase voltage the map has near nominal: a misread one is far off."""
    low, high = _voltage_band(settings)
    for quantity in VOLTAGES:
        volts = values.get(quantity)
        if volts is not None and not low <= volts <= high:
            yield (
                f"{_show(quantity, volts)} is not within {VOLTAGE_TOLERANCE:.0%}"
                f" of nominal {settings.nominal_voltage_v:g} V"
            )


def _currents(values: Values, settings: MeterSettings) -> Iterable[str]:
    for quantity in CURRENTS:
        amperes = values.get(quantity)
        if amperes is not None and abs(amperes) > settings.max_current_a:
            yield f"{_show(quantity, amperes)} is above max_current_a {settings.max_current_a:g} A"


def _powers(values: Values, settings: MeterSettings) -> Iterable[str]:
    """Powers within what max_current_a at the highest plausible voltage allows."""
    phase_limit_w = settings.max_current_a * _voltage_band(settings)[1]
    limits = {**dict.fromkeys(POWERS, phase_limit_w), Quantity.TOTAL_POWER: 3 * phase_limit_w}
    for quantity, limit_w in limits.items():
        watts = values.get(quantity)
        if watts is not None and abs(watts) > limit_w:
            yield f"{_show(quantity, watts)} is above the {limit_w:.0f} W max_current_a allows"


def _frequency(values: Values, settings: MeterSettings) -> Iterable[str]:
    hertz = values.get(Quantity.FREQUENCY)
    if hertz is None:
        return
    if all(abs(hertz - grid) > FREQUENCY_TOLERANCE_HZ for grid in GRID_FREQUENCIES_HZ):
        grids = " or ".join(f"{grid:g}" for grid in GRID_FREQUENCIES_HZ)
        yield (
            f"{_show(Quantity.FREQUENCY, hertz)} is not within"
            f" {FREQUENCY_TOLERANCE_HZ:g} Hz of {grids} Hz"
        )


def _energy(values: Values, settings: MeterSettings) -> Iterable[str]:
    energy = values.get(Quantity.ENERGY_IMPORT)
    if energy is not None and energy < 0:
        yield f"{_show(Quantity.ENERGY_IMPORT, energy)} is negative"


def _power_against_current(values: Values, settings: MeterSettings) -> Iterable[str]:
    """Per phase with both: |P| ≤ |I| × V × headroom + slack, and the same direction.

    A word-order or sign mistake in one of the two registers breaks one of these while
    each value alone still looks possible.
    """
    low, high = _voltage_band(settings)
    for current, power, voltage in zip(CURRENTS, POWERS, VOLTAGES, strict=True):
        amperes, watts = values.get(current), values.get(power)
        if amperes is None or watts is None:
            continue
        volts = values.get(voltage)
        if volts is None or not low <= volts <= high:
            volts = settings.nominal_voltage_v
        most_w = abs(amperes) * volts * POWER_HEADROOM + POWER_SLACK_W
        if abs(watts) > most_w:
            yield (
                f"{_show(power, watts)} is more than {_show(current, amperes)}"
                f" at {volts:.1f} V can carry ({most_w:.0f} W at most)"
            )
        elif abs(amperes) >= SIGN_MIN_A and abs(watts) >= SIGN_MIN_W and amperes * watts < 0:
            yield f"{_show(power, watts)} and {_show(current, amperes)} point opposite ways"


CHECKS: tuple[Callable[[Values, MeterSettings], Iterable[str]], ...] = (
    _voltages,
    _currents,
    _powers,
    _frequency,
    _energy,
    _power_against_current,
)
"""The plausibility checks, each on its own quantities; `implausible` runs them all."""


def _voltage_band(settings: MeterSettings) -> tuple[float, float]:
    nominal = settings.nominal_voltage_v
    return nominal * (1 - VOLTAGE_TOLERANCE), nominal * (1 + VOLTAGE_TOLERANCE)


def _phases(values: Values, quantities: tuple[Quantity, Quantity, Quantity]) -> PhaseValues:
    return (values.get(quantities[0]), values.get(quantities[1]), values.get(quantities[2]))


def _all_zero(values: Values) -> bool:
    present = [v for v in values.values() if v is not None]
    has_supply = any(q in values for q in (*VOLTAGES, Quantity.FREQUENCY))
    return has_supply and len(present) >= 3 and all(v == 0.0 for v in present)


def _show(quantity: Quantity, value: float) -> str:
    """`voltage_l1 0.0003 V`, `power_l2 -2300.0 W`: the quantity, its value, its unit."""
    number = f"{value:.1f}" if value == 0 or 0.1 <= abs(value) < 1e9 else f"{value:.3g}"
    return f"{quantity} {number} {UNITS[quantity.kind]}"


def _quote(values: Values) -> str:
    """The first few values read, for a reason about all of them."""
    shown = [_show(q, v) for q, v in values.items() if v is not None]
    more = len(shown) - SHOWN_FROZEN_VALUES
    return ", ".join(shown[:SHOWN_FROZEN_VALUES]) + (f" and {more} more" if more > 0 else "")
