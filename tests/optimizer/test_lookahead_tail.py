"""The battery-tail rows follow the battery through a block: its maximum falls as it fills,
so a block's mean current is held to what it takes over the block; worked out by hand."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from optimizer import Phase, Problem, SiteLimits
from optimizer.columns import columns_of
from optimizer.layout import layout_of
from optimizer.lookahead import _Blocks, _broken_tail, tail_weights
from optimizer.parameters import FloatArray, parameters_of
from tests.optimizer.helpers import START, ev

HOUR_S = 3600.0
MEAN = np.asarray([False])
"""A block whose current is a mean over it (not held through a step)."""


def test_a_battery_that_fills_through_the_block_takes_less_than_its_maximum_there() -> None:
    """A maximum falling by ln 2 over the block halves by its end: the mean is m / (2 ln 2),
    so the current is weighed 2 ln 2 = 1.386; there half of the block, the maximum falls by
    ln 2 / 2 and the mean over the block is m (1 - 2^-1/2) / ln 2 = 0.423 m. A current held
    through a block of one step is what the battery draws while there: half of the block
    there, it is weighed as the mean over that half, not over the whole block."""
    length = np.asarray([HOUR_S])
    fall = np.asarray([math.log(2.0) / HOUR_S, 0.0])
    whole = tail_weights(length, np.asarray([[1.0, 1.0]]), fall, MEAN)
    assert whole[0].tolist() == pytest.approx([2.0 * math.log(2.0), 1.0])
    half = tail_weights(length, np.asarray([[0.5, 0.5]]), fall, MEAN)
    assert 1.0 / half[0, 0] == pytest.approx((1.0 - 2.0**-0.5) / math.log(2.0))
    assert half[0, 1] == pytest.approx(2.0)
    held = tail_weights(length, np.asarray([[0.5, 0.5]]), fall, np.asarray([True]))
    assert held[0].tolist() == pytest.approx((half[0] * 0.5).tolist())
    assert held[0, 1] == pytest.approx(1.0)


def _solution(values: list[float]) -> FloatArray:
    """The plan's currents of one session, one per block."""
    return np.asarray(values)[:, None]


def test_a_tail_planned_at_its_start_of_block_maximum_through_a_long_block_breaks_it() -> None:
    """A 1-phase 16 A EV needing 8 kWh, all of it tail (falling to 0.7 of 16 A): its
    maximum falls by 16 × 0.3 / (8 kWh / 230 V) = 3.83e-5 per ampere-second, u = 0.138 over
    the hour after a 5-minute block, and it takes 16 (1 - e^-u) / u = 14.95 A on average
    there. 15.5 A broke no row when a block was held to its start's 16 A; it does now."""
    car = ev(
        "car", (Phase.L1,), max_a=16.0, departure=START + timedelta(hours=8), energy_need_wh=8_000.0
    )
    problem = Problem(site=SiteLimits(63.0), connectors=(car,))
    columns = columns_of(problem.connectors)
    params = parameters_of(problem, layout_of(problem, columns), columns)
    now_s = START.timestamp()
    blocks = _Blocks.of(params, np.arange(1), np.asarray([now_s, now_s + 300.0, now_s + 3900.0]))
    u = 16.0 * 0.3 / (8_000.0 * HOUR_S / 230.0) * HOUR_S
    assert 16.0 * -math.expm1(-u) / u == pytest.approx(14.95, abs=0.01)
    assert _broken_tail(_solution([0.0, 15.5]), blocks) is not None
    assert _broken_tail(_solution([0.0, 14.9]), blocks) is None
