"""A misread meter (wrong function code, word order or map) is invalid even when its values
are not all zero, and a frozen one within one control period; every reason names the
quantity and the value. Unit tests on `assess`, then through real Modbus TCP."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.modbus.config import MeterSettings
from adapters.modbus.decoding import Values
from adapters.modbus.failures import FailureKind, ReadFailure
from adapters.modbus.faults import FaultKind, FaultWindow
from adapters.modbus.health import FrozenWatch, assess
from adapters.modbus.profile import LoadProfile
from adapters.modbus.reader import ModbusMeterReader
from adapters.modbus.register_map import MAPS_DIR, Quantity, load_map, shipped_map_names
from adapters.modbus.simulator import MeterSimulator
from ems.events import MeterReading
from tests.adapters.modbus.support import EPOCH, ManualClock, settings_for

Q = Quantity
SETTINGS = MeterSettings(id="grid", map="sdm630", host="127.0.0.1")
CONTROL_PERIOD_S = 10.0


def live(**changes: float | None) -> Values:
    """A plausible three-phase reading (import positive, signed currents), changed."""
    values: Values = {
        Q.VOLTAGE_L1: 231.2,
        Q.VOLTAGE_L2: 229.8,
        Q.VOLTAGE_L3: 232.5,
        Q.CURRENT_L1: 10.0,
        Q.CURRENT_L2: 5.5,
        Q.CURRENT_L3: -3.0,
        Q.POWER_L1: 2266.0,
        Q.POWER_L2: 1230.0,
        Q.POWER_L3: -680.0,
        Q.TOTAL_POWER: 2816.0,
        Q.ENERGY_IMPORT: 1_234_567.0,
        Q.FREQUENCY: 50.02,
    }
    values.update({Quantity(name): value for name, value in changes.items()})
    return values


def check(
    values: Values, settings: MeterSettings = SETTINGS
) -> tuple[MeterReading, ReadFailure | None]:
    return assess("grid", EPOCH, values, [], settings, FrozenWatch())


def reason_of(values: Values, settings: MeterSettings = SETTINGS) -> str:
    reading, failure = check(values, settings)
    assert not reading.valid
    assert failure is not None
    assert failure.kind is FailureKind.OUT_OF_RANGE
    assert reading.reason == str(failure)
    return failure.detail


def test_a_live_reading_is_valid() -> None:
    reading, failure = check(live())

    assert failure is None
    assert reading.valid
    assert reading.current_a == (10.0, 5.5, -3.0)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"voltage_l1": 0.0003}, "voltage_l1 0.0003 V is not within 20% of nominal 230 V"),
        ({"voltage_l2": 1.2e9}, "voltage_l2 1.2e+09 V is not within 20% of nominal 230 V"),
        ({"voltage_l3": 180.0}, "voltage_l3 180.0 V is not within 20% of nominal 230 V"),
        ({"voltage_l1": 290.0}, "voltage_l1 290.0 V is not within 20% of nominal 230 V"),
        ({"frequency": 0.0003}, "frequency 0.0003 Hz is not within 5 Hz of 50 or 60 Hz"),
        ({"frequency": 65.5}, "frequency 65.5 Hz is not within 5 Hz of 50 or 60 Hz"),
    ],
)
def test_voltage_and_frequency_far_from_a_real_supply(
    changes: dict[str, float], reason: str
) -> None:
    assert reason_of(live(**changes)) == reason


@pytest.mark.parametrize(
    "changes",
    [{"voltage_l1": 207.0, "voltage_l3": 253.0}, {"frequency": 49.0}, {"frequency": 60.4}],
)
def test_a_real_supply_within_its_tolerances_is_valid(changes: dict[str, float]) -> None:
    assert check(live(**changes))[1] is None


def test_voltage_is_judged_against_the_configured_nominal() -> None:
    us_site = replace(SETTINGS, nominal_voltage_v=120.0)
    at_120_v = live(
        voltage_l1=120.5,
        voltage_l2=119.0,
        voltage_l3=121.0,
        power_l1=1180.0,
        power_l2=640.0,
        power_l3=-350.0,
    )

    assert check(at_120_v, us_site)[1] is None
    assert reason_of(live(), us_site).startswith(
        "voltage_l1 231.2 V is not within 20% of nominal 120 V"
    )


def test_a_map_without_voltages_gets_no_voltage_check() -> None:
    values = live()
    for quantity in (Q.VOLTAGE_L1, Q.VOLTAGE_L2, Q.VOLTAGE_L3):
        del values[quantity]

    assert check(values, replace(SETTINGS, nominal_voltage_v=400.0))[1] is None


def test_more_power_than_the_current_can_carry() -> None:
    reason = reason_of(live(power_l1=9000.0))

    assert reason == (
        "power_l1 9000.0 W is more than current_l1 10.0 A at 231.2 V can carry (2824 W at most)"
    )


def test_power_with_a_tiny_current_from_a_swapped_float() -> None:
    reason = reason_of(live(current_l2=2.4e-41))

    assert reason == (
        "power_l2 1230.0 W is more than current_l2 2.4e-41 A at 229.8 V can carry (50 W at most)"
    )


def test_power_and_current_pointing_opposite_ways() -> None:
    reason = reason_of(live(power_l3=680.0))

    assert reason == "power_l3 680.0 W and current_l3 -3.0 A point opposite ways"


def test_small_values_may_differ_in_sign_and_carry_the_slack() -> None:
    idle = live(current_l1=0.4, power_l1=-60.0, current_l2=0.0, power_l2=45.0)

    assert check(idle)[1] is None


def test_without_a_voltage_the_nominal_voltage_bounds_the_power() -> None:
    values = live(power_l1=2800.0)
    del values[Q.VOLTAGE_L1]

    assert check(values)[1] is None  # 10 A x 230 V x 1.2 + 50 W = 2810 W
    values[Q.POWER_L1] = 2900.0
    assert reason_of(values) == (
        "power_l1 2900.0 W is more than current_l1 10.0 A at 230.0 V can carry (2810 W at most)"
    )


def test_a_current_beyond_the_meter_maximum_still_names_itself() -> None:
    reason = reason_of(live(current_l1=5000.0, power_l1=1_150_000.0))

    assert reason.startswith("current_l1 5000.0 A is above max_current_a 2000 A; power_l1")


def test_all_zero_names_the_values() -> None:
    zeros: Values = dict.fromkeys(live(), 0.0)
    _, failure = check(zeros)

    assert failure is not None
    assert failure.kind is FailureKind.ALL_ZERO
    assert failure.detail == (
        "every value read 0 (voltage_l1 0.0 V, voltage_l2 0.0 V, voltage_l3 0.0 V and 9 more):"
        " wrong function code 03/04 or map?"
    )


def frozen_after(values: list[Values], settings: MeterSettings = SETTINGS) -> list[str | None]:
    """Reasons of one reading a second over `values`."""
    watch = FrozenWatch()
    reasons = []
    for second, value in enumerate(values):
        at = EPOCH + timedelta(seconds=second)
        reading, _ = assess("grid", at, value, [], settings, watch)
        reasons.append(reading.reason)
    return reasons


def test_identical_values_are_frozen_within_one_control_period() -> None:
    reasons = frozen_after([live()] * 12)

    first = next(i for i, reason in enumerate(reasons) if reason is not None)
    assert first == SETTINGS.frozen_after_s < CONTROL_PERIOD_S
    assert reasons[first] == (
        "frozen: every value unchanged for 8 s (voltage_l1 231.2 V, voltage_l2 229.8 V,"
        " voltage_l3 232.5 V and 9 more): a gateway serving a dead meter's last answer?"
    )


@pytest.mark.parametrize("moving", ["current_l2", "power_l3", "frequency", "total_power"])
def test_any_value_that_moves_shows_a_live_meter(moving: str) -> None:
    start = live()[Quantity(moving)]
    assert start is not None
    readings = [live(**{moving: start + 0.1 * (i % 2)}) for i in range(20)]

    assert frozen_after(readings) == [None] * 20


async def test_a_frozen_gateway_is_untrusted_within_one_control_period() -> None:
    clock = ManualClock()
    simulator = MeterSimulator(
        load_map("em24_e1"),
        LoadProfile.constant((20.0, 12.0, -4.0)),
        clock=clock.monotonic,
        faults=[FaultWindow(FaultKind.FROZEN, 5.0, 60.0)],
    )
    async with simulator:
        reader = ModbusMeterReader(settings_for(simulator.port, "em24_e1"), clock=clock.utc)
        reasons = []
        while clock.seconds < 5.0 + CONTROL_PERIOD_S:
            reading = await reader.read()
            reasons.append((clock.seconds, reading.reason))
            clock.advance(1.0)
        await reader.close()

    untrusted = [(second, reason) for second, reason in reasons if reason is not None]
    assert untrusted
    first_second, first_reason = untrusted[0]
    assert 5.0 < first_second <= 5.0 + CONTROL_PERIOD_S - 1
    assert first_reason.startswith("frozen: every value unchanged for")


async def _read_once(
    read_with: str, *, swap_words: bool = False
) -> tuple[MeterReading, ReadFailure | None]:
    """One read, with map `read_with`, of a simulated meter whose map is `read_with`'s
    shipped namesake (or sdm630 for a map file), serving `swap_words` or not."""
    served = read_with if read_with in shipped_map_names() else "sdm630"
    clock = ManualClock()
    simulator = MeterSimulator(
        load_map(served),
        LoadProfile.constant((10.0, 5.5, 3.25)),
        clock=clock.monotonic,
        swap_words=swap_words,
    )
    async with simulator:
        clock.advance(7.25)
        reader = ModbusMeterReader(settings_for(simulator.port, read_with), clock=clock.utc)
        reading = await reader.read()
        await reader.close()
    return reading, reader.last_failure


@pytest.mark.parametrize("map_name", ["sdm630", "em24_e1", "siemens_pac2200"])
async def test_a_meter_serving_the_other_word_order_is_invalid(map_name: str) -> None:
    reading, failure = await _read_once(map_name, swap_words=True)

    assert not reading.valid
    assert failure is not None
    assert failure.kind is FailureKind.OUT_OF_RANGE
    assert reading.reason is not None
    assert reading.reason.startswith("out of range: voltage_l1 ")
    assert " V is not within 20% of nominal 230 V" in reading.reason
    assert reading.voltage_v[0] is not None
    assert reading.voltage_v[0] != pytest.approx(230.0, rel=0.2)


async def test_a_map_with_the_wrong_word_order_is_invalid(tmp_path: Path) -> None:
    wrong = tmp_path / "sdm630_lsw_first.toml"
    text = (MAPS_DIR / "sdm630.toml").read_text()
    wrong.write_text(text.replace('word_order = "big"', 'word_order = "little"'))
    reading, failure = await _read_once(str(wrong))

    assert not reading.valid
    assert failure is not None
    assert failure.kind is FailureKind.OUT_OF_RANGE
    assert reading.reason is not None
    assert "voltage_l1 " in reading.reason
    assert "frequency " in reading.reason


async def test_the_simulator_serves_the_map_word_order_by_default() -> None:
    reading, failure = await _read_once("em24_e1")

    assert reading.valid, reading.reason
    assert failure is None


async def test_a_circuit_meter_names_its_circuit_on_every_reading() -> None:
    """The controller counts a circuit meter's readings on that circuit
    (`ems.circuit_meters`), good or failed."""
    clock = ManualClock()
    simulator = MeterSimulator(
        load_map("sdm630"), LoadProfile.constant((12.0, 4.0, 2.5)), clock=clock.monotonic
    )
    async with simulator:
        settings = replace(settings_for(simulator.port, "sdm630"), circuit="garage")
        reader = ModbusMeterReader(settings, clock=clock.utc)
        good = await reader.read()
        await reader.close()
    failed = await ModbusMeterReader(settings, clock=clock.utc).read()

    assert good.valid, good.reason
    assert good.circuit == "garage"
    assert good.current_a == pytest.approx((12.0, 4.0, 2.5))
    assert not failed.valid
    assert failed.circuit == "garage"
