import math
from datetime import timedelta

from ems.events import MeterReading
from ems.meter_watch import MeterWatch, Mode
from tests.ems.fakes import T0


def reading(seconds: float, amps: float = 10.0, valid: bool = True) -> MeterReading:
    at = T0 + timedelta(seconds=seconds)
    return MeterReading(
        "main",
        at,
        valid,
        (amps, amps, amps),
        reason=None if valid else "all zero: every value read 0",
    )


def mode(w: MeterWatch) -> Mode:
    return w.mode


def watch() -> MeterWatch:
    return MeterWatch(stale_s=10.0, recover_readings=3, max_current_a=126.0)


def test_conservative_until_a_first_good_reading() -> None:
    w = watch()
    assert mode(w) is Mode.CONSERVATIVE
    w.observe(reading(0))
    assert mode(w) is Mode.NORMAL


def test_stale_meter_turns_conservative() -> None:
    w = watch()
    w.observe(reading(0))
    w.check(T0 + timedelta(seconds=10))
    assert mode(w) is Mode.NORMAL
    w.check(T0 + timedelta(seconds=11))
    assert mode(w) is Mode.CONSERVATIVE
    assert "stale" in w.reason


def test_invalid_nan_and_implausible_readings_are_faults() -> None:
    for bad in (reading(1, valid=False), reading(1, amps=math.nan), reading(1, amps=500.0)):
        w = watch()
        w.observe(reading(0))
        w.observe(bad)
        assert mode(w) is Mode.CONSERVATIVE, bad
        assert w.current_a == (10.0, 10.0, 10.0)


def test_recovery_needs_n_good_readings_in_a_row() -> None:
    w = watch()
    w.observe(reading(0))
    w.observe(reading(1, valid=False))
    w.observe(reading(2))
    w.observe(reading(3))
    assert mode(w) is Mode.CONSERVATIVE
    w.observe(reading(4, valid=False))
    w.observe(reading(5))
    w.observe(reading(6))
    assert mode(w) is Mode.CONSERVATIVE
    w.observe(reading(7))
    assert mode(w) is Mode.NORMAL


def test_out_of_order_reading_is_ignored() -> None:
    w = watch()
    w.observe(reading(5, amps=20.0))
    w.observe(reading(1, amps=30.0))
    assert w.current_a == (20.0, 20.0, 20.0)


def silence(seconds: float) -> MeterReading:
    at = T0 + timedelta(seconds=seconds)
    return MeterReading("main", at, False, reason="timeout: no answer within 1 s", silent=True)


def test_a_read_without_an_answer_is_silence_until_the_meter_is_stale() -> None:
    w = watch()
    w.observe(reading(0))
    for second in range(1, 11):
        w.observe(silence(second))
        w.check(T0 + timedelta(seconds=second))
        assert mode(w) is Mode.NORMAL, second
    w.check(T0 + timedelta(seconds=10.5))
    assert mode(w) is Mode.CONSERVATIVE
    assert "stale" in w.reason


def test_silence_neither_breaks_nor_counts_towards_a_recovery() -> None:
    w = watch()
    w.observe(reading(0))
    w.observe(reading(1, valid=False))
    w.observe(reading(2))
    w.observe(silence(3))
    w.observe(reading(4))
    assert mode(w) is Mode.CONSERVATIVE
    w.observe(silence(5))
    w.observe(reading(6))
    assert mode(w) is Mode.NORMAL
