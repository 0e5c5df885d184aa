"""The surplus a block offers: the mean of the export, not the export of the mean."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from optimizer.lookahead import _block_surplus, power_series
from optimizer.problem import PowerPeriod
from tests.optimizer.helpers import START

HOUR = timedelta(hours=1)


def test_a_block_in_which_the_sun_sets_still_offers_its_surplus() -> None:
    """An hour exporting 2.3 kW, then an hour importing as much: the block's mean import
    is 0, yet half of it the site exports (10 phase-amperes at 230 V, so 5 on average)."""
    base = (PowerPeriod(START, -2300.0), PowerPeriod(START + HOUR, 2300.0))
    edges = np.asarray([START.timestamp(), (START + 2 * HOUR).timestamp()])
    assert _block_surplus(edges, power_series(base), 230.0, 0.0) == pytest.approx([5.0])


def test_what_the_others_draw_is_taken_from_the_surplus_first() -> None:
    base = (PowerPeriod(START, -2300.0),)
    edges = np.asarray([START.timestamp(), (START + HOUR).timestamp()])
    assert _block_surplus(edges, power_series(base), 230.0, 4.0) == pytest.approx([6.0])
    assert _block_surplus(edges, power_series(base), 230.0, 12.0) == pytest.approx([0.0])
