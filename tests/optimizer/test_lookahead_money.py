"""Money in the look-ahead: energy by the departures first, then the cheapest hours,
the lowest peak and the surplus; worked out by hand on one or two EVs."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from optimizer import (
    Lookahead,
    Phase,
    PowerPeriod,
    PricePeriod,
    Problem,
    SiteLimits,
    SolveStatus,
    solve,
)
from optimizer.lookahead import block_means
from tests.optimizer.helpers import START, ev

STEP_S = 300.0
HOUR = timedelta(hours=1)
KWH_AT_16_A_3_PHASE = 16 * 3 * 230 / 1000.0  # 11.04 kW: 11.04 kWh in an hour
MARGIN_H = 0.05 * 8_000.0 / 3_680.0 * math.log(1 / 0.7) / 0.3
"""The time kept in hand by a 1-phase 16 A EV whose 8 kWh are all tail: a twentieth
(`TAIL_MARGIN_SHARE`) of the 2.6 h the tail takes at its taper, 7.8 minutes."""


def _problem(
    lookahead: Lookahead,
    need_wh: float,
    stay: timedelta,
    min_a: float = 0.0,
    phases: tuple[Phase, ...] = (Phase.L1, Phase.L2, Phase.L3),
) -> Problem:
    car = ev(
        "car",
        phases=phases,
        ev_phases=phases,
        max_a=16.0,
        min_current_a=min_a,
        departure=START + stay,
        energy_need_wh=need_wh,
    )
    return Problem(site=SiteLimits(63.0), connectors=(car,), lookahead=lookahead)


def _now_a(problem: Problem) -> float:
    result = solve(problem)
    assert result.status is SolveStatus.OPTIMAL
    return result.by_id()["car"].now_a


def _expensive_then_cheap() -> tuple[PricePeriod, ...]:
    return (PricePeriod(START, 0.40), PricePeriod(START + 2 * HOUR, 0.10))


def test_without_money_the_ev_charges_now() -> None:
    problem = _problem(Lookahead(START, STEP_S), 5_000.0, 6 * HOUR)
    assert _now_a(problem) == pytest.approx(16.0)


def test_it_waits_for_the_cheap_hours_when_they_can_still_deliver_the_need() -> None:
    lookahead = Lookahead(START, STEP_S, prices=_expensive_then_cheap())
    assert _now_a(_problem(lookahead, 5_000.0, 6 * HOUR)) == pytest.approx(0.0, abs=1e-6)


def test_energy_outranks_price_when_the_cheap_hours_cannot_deliver_it() -> None:
    """Three hours at 16 A deliver 33 kWh; 30 kWh by a departure 3 h away leaves no
    room to wait, however dear now is (the plan keeps 3 minutes in hand, a twentieth of
    the 52 its tail takes)."""
    lookahead = Lookahead(START, STEP_S, prices=_expensive_then_cheap())
    assert _now_a(_problem(lookahead, 30_000.0, 3 * HOUR)) == pytest.approx(16.0)


def test_a_minimum_current_is_kept_or_the_ev_waits_at_zero() -> None:
    lookahead = Lookahead(START, STEP_S, prices=_expensive_then_cheap())
    now = _now_a(_problem(lookahead, 5_000.0, 6 * HOUR, min_a=6.0))
    assert now == 0.0 or now >= 6.0 - 1e-9
    assert now == pytest.approx(0.0, abs=1e-6)


def test_a_demand_charge_spreads_the_charging_over_the_stay() -> None:
    """8 kWh on one phase over four hours at the lowest peak. A twentieth of the 2.6 h its
    tail takes at 3.68 kW is 7.8 minutes kept in hand: 8 kWh / 3.87 h is 2.07 kW, 8.99 A,
    far below 16 A now."""
    lookahead = Lookahead(START, STEP_S, peak_price_per_kw=10.0)
    now = _now_a(_problem(lookahead, 8_000.0, 4 * HOUR, phases=(Phase.L1,)))
    assert now == pytest.approx(8_000.0 / (4.0 - MARGIN_H) / 230.0, rel=0.02)


def test_a_session_leaving_early_in_a_long_block_counts_in_the_peak_at_its_rate_there() -> None:
    """8 kWh on one phase, planned done 7.8 minutes before it leaves at 4 h 50, so by
    4 h 42: in the plan's block from 3 h 35 to 6 h 15 it is there for 67 of 160 minutes.
    Counted at its mean over that block the plan would see room under a lower peak than
    the session needs there; counted at its rate while there, the lowest peak is the even
    spread: 8 kWh / 4.70 h is 1.70 kW, 7.39 A."""
    lookahead = Lookahead(START, STEP_S, peak_price_per_kw=10.0)
    stay = 4 * HOUR + timedelta(minutes=50)
    now = _now_a(_problem(lookahead, 8_000.0, stay, phases=(Phase.L1,)))
    assert now == pytest.approx(8_000.0 / (4.0 + 50.0 / 60.0 - MARGIN_H) / 230.0, rel=0.02)


def test_the_peak_already_paid_for_is_free_to_use() -> None:
    paid_w = 16 * 3 * 230.0
    lookahead = Lookahead(START, STEP_S, peak_price_per_kw=10.0, peak_so_far_w=paid_w)
    now = _now_a(_problem(lookahead, KWH_AT_16_A_3_PHASE * 1000.0, 4 * HOUR))
    assert now == pytest.approx(16.0)


def test_it_waits_for_the_sun_when_the_surplus_will_cover_it() -> None:
    """Importing now costs 0.30; from the second hour the site exports 20 kW, worth only
    the 0.07 feed-in: the EV waits for it."""
    lookahead = Lookahead(
        START,
        STEP_S,
        prices=(PricePeriod(START, 0.30),),
        base_import=(PowerPeriod(START, 5_000.0), PowerPeriod(START + HOUR, -20_000.0)),
        export_price_per_kwh=0.07,
    )
    assert _now_a(_problem(lookahead, 5_000.0, 6 * HOUR)) == pytest.approx(0.0, abs=1e-6)
    no_sun = Lookahead(START, STEP_S, prices=(PricePeriod(START, 0.30),))
    assert _now_a(_problem(no_sun, 5_000.0, 6 * HOUR)) == pytest.approx(16.0)


def test_block_means_integrate_the_step_function() -> None:
    starts = np.asarray([0.0, 100.0])
    values = np.asarray([1.0, 3.0])
    means = block_means(np.asarray([-50.0, 50.0, 150.0, 250.0]), starts, values)
    assert means.tolist() == pytest.approx([1.0, 2.0, 3.0])


def test_a_cheap_hour_late_in_the_stay_is_not_averaged_away_with_dearer_ones() -> None:
    """0.40 now, a cheap hour (0.10) from 4 h to 5 h, 0.60 around it until the EV leaves at
    6 h 15. Blocks doubling without end would put 3 h 35 to 6 h 15 in one block at a mean
    of 0.41, dearer than now, and charge now; with blocks of at most an hour
    (`PRICED_BLOCK_S`) the plan sees the cheap hour and waits for it (2 kWh take 11
    minutes at 16 A on three phases)."""
    prices = (
        PricePeriod(START, 0.40),
        PricePeriod(START + 3 * HOUR, 0.60),
        PricePeriod(START + 4 * HOUR, 0.10),
        PricePeriod(START + 5 * HOUR, 0.60),
    )
    lookahead = Lookahead(START, STEP_S, prices=prices)
    stay = 6 * HOUR + timedelta(minutes=15)
    assert _now_a(_problem(lookahead, 2_000.0, stay)) == pytest.approx(0.0, abs=1e-6)
