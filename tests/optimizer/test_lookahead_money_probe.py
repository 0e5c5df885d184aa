"""With money, an EV not yet seen drawing is probed at its minimum before it may wait, unless
it would have time to spare as a 1-phase EV (`PROBE_LAXITY_S`) on rows that are not
crowded; worked out by hand."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from optimizer import Connector, Lookahead, PricePeriod, Problem, SiteLimits, solve
from optimizer.columns import columns_of
from optimizer.layout import layout_of
from optimizer.lookahead import PROBE_LAXITY_S, probed
from optimizer.parameters import parameters_of
from tests.optimizer.helpers import START, THREE

HOUR = timedelta(hours=1)
SLOW_H = 3_000.0 * 1.18892 / 3_680.0
"""3 kWh, all of them tail (1.189 times as long as at the top), at 16 A on one phase:
0.969 h."""


def _problem(stay: timedelta, empty: int = 0) -> Problem:
    """A 16 A EV on a 3-phase connector, its phases not seen, needing 3 kWh; the first
    hour costs four times the rest; `empty` 32 A connectors beside it."""
    car = Connector(
        id="car",
        phases=THREE,
        max_current_a=16.0,
        ev_present=True,
        min_current_a=6.0,
        departure=START + stay,
        energy_need_wh=3_000.0,
    )
    empties = tuple(Connector(id=f"e{n}", phases=THREE, max_current_a=32.0) for n in range(empty))
    prices = (PricePeriod(START, 0.40), PricePeriod(START + HOUR, 0.10))
    return Problem(
        site=SiteLimits(63.0),
        connectors=(car, *empties),
        lookahead=Lookahead(START, 300.0, prices=prices),
    )


def _now_a(problem: Problem) -> float:
    return solve(problem).by_id()["car"].now_a


def test_with_hours_to_spare_even_on_one_phase_it_waits_unprobed() -> None:
    """6 h away, 0.97 h of charging on one phase: 5 h to spare; it waits for the cheap hours
    (probed at once, it drew 6 A in the dear one)."""
    assert _now_a(_problem(6 * HOUR)) == pytest.approx(0.0, abs=1e-6)


def test_with_less_than_the_laxity_to_spare_on_one_phase_it_is_probed() -> None:
    """1.9 h away: 0.93 h to spare on one phase. As a 3-phase EV it could wait the dear hour
    out (0.32 h of charging), but were it 1-phase it could not: probed at its minimum."""
    assert _now_a(_problem(1.9 * HOUR)) == pytest.approx(6.0, abs=1e-6)


def test_on_crowded_rows_it_is_probed_however_much_time_it_has() -> None:
    """Four empty 32 A connectors beside it: (16 + 128) A of 63 A is 2.3 times what is free."""
    assert _now_a(_problem(6 * HOUR, empty=4)) == pytest.approx(6.0, abs=1e-6)


def test_the_laxity_is_the_time_to_spare_at_one_phase_through_the_taper() -> None:
    """Probed from the moment less than `PROBE_LAXITY_S` would be left after 0.969 h of
    charging on one phase."""
    problem = _problem(HOUR)
    columns = columns_of(problem.connectors)
    params = parameters_of(problem, layout_of(problem, columns), columns)
    edge_s = params.departure_s[0] - SLOW_H * 3600.0 - PROBE_LAXITY_S
    assert probed(params, np.arange(1), edge_s - 1.0, crowded=0.0).tolist() == [False]
    assert probed(params, np.arange(1), edge_s + 1.0, crowded=0.0).tolist() == [True]
