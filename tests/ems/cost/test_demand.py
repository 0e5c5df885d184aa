"""The billing period's peak: the highest completed 15-minute average import."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from ems.demand import DemandPeak

START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
PERIOD = datetime(2025, 3, 1, tzinfo=UTC)


def _feed(peak: DemandPeak, readings: list[tuple[float, float]]) -> None:
    for minutes, power_w in readings:
        peak.observe(START + timedelta(minutes=minutes), power_w, PERIOD)


def test_a_window_counts_its_average_once_it_is_over() -> None:
    peak = DemandPeak()
    _feed(peak, [(0, 10_000.0), (5, 40_000.0), (10, 10_000.0), (14, 10_000.0)])
    assert peak.peak_w == 0.0  # the window is not over yet
    _feed(peak, [(15, 0.0)])
    assert peak.peak_w == pytest.approx((10_000 * 5 + 40_000 * 5 + 10_000 * 5) / 15)


def test_export_lowers_the_average_and_nan_is_no_reading() -> None:
    peak = DemandPeak()
    _feed(peak, [(0, 20_000.0), (7.5, -20_000.0), (10, math.nan), (15, 0.0)])
    assert peak.peak_w == pytest.approx((20_000 * 7.5 - 20_000 * 7.5) / 15)


def test_a_new_billing_period_starts_from_nothing() -> None:
    peak = DemandPeak()
    _feed(peak, [(0, 30_000.0), (15, 30_000.0), (30, 0.0)])
    assert peak.peak_w == pytest.approx(30_000.0)
    april = datetime(2025, 4, 1, tzinfo=UTC)
    peak.observe(START + timedelta(minutes=45), 5_000.0, april)
    assert peak.peak_w == 0.0
    assert peak.period_start == april


def test_a_reading_is_not_held_across_a_long_gap() -> None:
    peak = DemandPeak()
    _feed(peak, [(0, 50_000.0), (120, 0.0), (135, 0.0)])
    assert peak.peak_w == pytest.approx(50_000.0)  # the first window, not two hours of it
