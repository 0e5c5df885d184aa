"""The time a session is planned to be done before it leaves: a share of its own remaining
tail, and with money up to `DEADLINE_MARGIN_S` on crowded rows; worked out by hand. (Without
money the margin keeps the shipped `small`'s tapering batteries from ending short of their
need: `tests/ems/replay/test_quality.py`.)"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from optimizer import (
    Connector,
    Lookahead,
    Phase,
    PricePeriod,
    Problem,
    SiteLimits,
    lookahead,
    solve,
)
from optimizer.columns import columns_of
from optimizer.layout import layout_of
from optimizer.lookahead import (
    DEADLINE_MARGIN_S,
    TAIL_MARGIN_SHARE,
    crowding,
    deadline_margins,
)
from optimizer.parameters import Parameters, parameters_of, row_matrix
from tests.optimizer.helpers import START, THREE, ev

STEP_S = 300.0
HOUR = timedelta(hours=1)
TAPER = math.log(1 / 0.7) / 0.3
"""Time through the planned tail (8 kWh falling linearly to 0.7 of the top) per time at the
top: 1.189."""


def _params(connectors: tuple[Connector, ...]) -> tuple[Parameters, np.ndarray]:
    problem = Problem(site=SiteLimits(63.0), connectors=connectors)
    columns = columns_of(problem.connectors)
    layout = layout_of(problem, columns)
    params = parameters_of(problem, layout, columns)
    return params, row_matrix(layout, params, layout.member())


def _cars() -> tuple[Connector, ...]:
    later = START + 8 * HOUR
    return (
        ev("three", max_a=16.0, departure=later, energy_need_wh=20_000.0),
        ev("one", phases=(Phase.L1,), max_a=16.0, departure=later, energy_need_wh=20_000.0),
        ev("fast", max_a=32.0, departure=later, energy_need_wh=4_000.0),
    )


def test_the_margin_is_a_share_of_the_time_the_remaining_tail_takes() -> None:
    """8 kWh of tail at 11.04 kW take 0.725 h at the top, 0.862 h at the taper: 155 s kept
    in hand; on one phase (3.68 kW) 465 s; 4 kWh at 22.08 kW, 39 s."""
    params, _ = _params(_cars())
    margins = deadline_margins(params, np.arange(3), crowded=0.0)
    tail_h = np.asarray([8_000 / 11_040, 8_000 / 3_680, 4_000 / 22_080]) * TAPER
    expected = np.minimum(TAIL_MARGIN_SHARE * tail_h * 3600.0, DEADLINE_MARGIN_S)
    assert margins.tolist() == pytest.approx(expected.tolist())
    assert margins.tolist() == pytest.approx([155.1, 465.2, 38.8], abs=0.1)


def test_crowded_rows_raise_every_margin_to_the_deadline_margin() -> None:
    params, _ = _params(_cars())
    own = deadline_margins(params, np.arange(3), crowded=0.0)
    assert deadline_margins(params, np.arange(3), crowded=2.0).tolist() == pytest.approx(
        own.tolist()
    )
    halfway = deadline_margins(params, np.arange(3), crowded=2.5)
    assert halfway.tolist() == pytest.approx(((own + DEADLINE_MARGIN_S) / 2).tolist())
    full = deadline_margins(params, np.arange(3), crowded=7.0)
    assert full.tolist() == pytest.approx([DEADLINE_MARGIN_S] * 3)


def _empty(cid: str) -> Connector:
    return Connector(id=cid, phases=THREE, max_current_a=32.0)


def test_crowding_counts_every_empty_connector_at_its_maximum() -> None:
    """One EV at 16 A and two empty 32 A connectors want 80 A of each phase's 63 A free."""
    car = ev("car", max_a=16.0, departure=START + HOUR, energy_need_wh=5_000.0)
    params, rows = _params((car, _empty("a"), _empty("b")))
    free = np.full(rows.shape[0], 63.0)
    at_most = rows[:, :1] @ params.cap_a[:1]
    assert crowding(params, rows, free, at_most) == pytest.approx(80.0 / 63.0)


def _waiting(stay: timedelta, empty: int) -> Problem:
    """24 kWh on three phases at 16 A take 1.45 h at the top and 0.86 h through the tail,
    2.31 h in all; the first hour costs four times the rest."""
    car = ev(
        "car",
        ev_phases=THREE,
        max_a=16.0,
        min_current_a=0.0,
        departure=START + stay,
        energy_need_wh=24_000.0,
    )
    prices = (PricePeriod(START, 0.40), PricePeriod(START + HOUR, 0.10))
    lookahead = Lookahead(START, STEP_S, prices=prices)
    connectors = (car, *(_empty(f"e{n}") for n in range(empty)))
    return Problem(site=SiteLimits(63.0), connectors=connectors, lookahead=lookahead)


def _now_a(problem: Problem) -> float:
    return solve(problem).by_id()["car"].now_a


def test_a_session_that_fits_its_own_margin_waits_for_the_cheap_hours() -> None:
    """3.5 h away: after the dear hour 2.5 h are left, 2.31 h needed and 155 s (0.04 h)
    kept in hand; with 30 minutes kept (before issue 17) it could not have waited."""
    assert _now_a(_waiting(3.5 * HOUR, empty=0)) == pytest.approx(0.0, abs=1e-6)


def test_on_crowded_rows_the_session_keeps_the_full_margin_and_charges_now() -> None:
    """Six empty 32 A connectors beside it: (16 + 192) A wanted of 63 A free is 3.3 times,
    so the margin is 30 minutes, and 2.5 h less 0.5 h cannot hold 2.31 h of charging."""
    assert _now_a(_waiting(3.5 * HOUR, empty=6)) > 1.0


def test_with_money_a_session_keeps_a_smaller_share_of_its_tail_in_hand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Left 2.31 h plus 118 s after the dear hour (the plan's blocks take a little more
    than the continuous tail): with money's share (`PRICED_TAIL_MARGIN_SHARE`, 140 s of
    the 0.86 h tail) it waits for the cheap hours; with the share a plan without money
    keeps (155 s) it would buy part of its need in the dear hour."""
    stay = HOUR + timedelta(seconds=8_319 + 118)
    assert _now_a(_waiting(stay, empty=0)) == pytest.approx(0.0, abs=1e-6)
    monkeypatch.setattr(lookahead, "PRICED_TAIL_MARGIN_SHARE", TAIL_MARGIN_SHARE)
    assert _now_a(_waiting(stay, empty=0)) > 0.1
