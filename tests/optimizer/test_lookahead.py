"""The look-ahead gives capacity that only some sessions can use now to them first."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from optimizer import Allocation, Circuit, Lookahead, Phase, Problem, SiteLimits, solve
from tests.optimizer.helpers import START, ev

STEP_S = 300.0
DECK_LIMIT_A = 20.0
SITE_LIMIT_A = 32.0


def _deck_site(min_a: float) -> Problem:
    """Two 1-phase EVs on L3 behind a 20 A circuit, neither able to finish before it
    leaves, and three 3-phase EVs with hours to spare, all on a 32 A site."""
    soon = START + timedelta(hours=3)
    later = START + timedelta(hours=8)
    deck = [
        ev(
            f"deck{i}",
            (Phase.L3,),
            max_a=16.0,
            circuit="deck",
            min_current_a=min_a,
            departure=soon,
            energy_need_wh=20_000.0,
        )
        for i in range(2)
    ]
    three_phase = [
        ev(f"car{i}", max_a=16.0, min_current_a=min_a, departure=later, energy_need_wh=5_000.0)
        for i in range(3)
    ]
    return Problem(
        site=SiteLimits(SITE_LIMIT_A),
        connectors=(*deck, *three_phase),
        circuits=(Circuit("deck", DECK_LIMIT_A),),
    )


def _ahead(problem: Problem) -> Problem:
    return replace(problem, lookahead=Lookahead(START, STEP_S))


def _phase_load(result: Allocation, ids: list[str], phase: Phase) -> float:
    by_id = result.by_id()
    return sum(by_id[i].phase_current_a[0][phase] for i in ids)


DECK = ["deck0", "deck1"]
CARS = ["car0", "car1", "car2"]


@pytest.mark.parametrize("min_a", [0.0, 6.0])
def test_the_circuit_whose_evs_cannot_finish_is_kept_full(min_a: float) -> None:
    problem = _deck_site(min_a)
    fair = solve(problem)
    ahead = solve(_ahead(problem))
    assert _phase_load(fair, DECK, Phase.L3) < DECK_LIMIT_A - 1.0
    assert _phase_load(ahead, DECK, Phase.L3) == pytest.approx(DECK_LIMIT_A, abs=1e-6)
    assert _phase_load(ahead, DECK + CARS, Phase.L3) <= SITE_LIMIT_A + 1e-6
    cars_now = [ahead.by_id()[c].now_a for c in CARS]
    assert all(a == 0.0 or a >= min_a - 1e-9 for a in cars_now)
    assert sum(cars_now) == pytest.approx(SITE_LIMIT_A - DECK_LIMIT_A, abs=1e-6)


def test_with_nothing_to_gain_the_fair_shares_stand() -> None:
    later = START + timedelta(hours=8)
    cars = tuple(
        ev(f"car{i}", max_a=16.0, departure=later, energy_need_wh=5_000.0 + 1_000.0 * i)
        for i in range(3)
    )
    problem = Problem(site=SiteLimits(SITE_LIMIT_A), connectors=cars)
    fair = solve(problem).by_id()
    ahead = solve(_ahead(problem)).by_id()
    for car in cars:
        assert ahead[car.id].now_a == pytest.approx(fair[car.id].now_a, abs=1e-6)


def test_sessions_without_a_departure_keep_at_least_their_fair_share() -> None:
    problem = _deck_site(0.0)
    unknown = ev("unknown", max_a=16.0, min_current_a=0.0)
    problem = replace(problem, connectors=(*problem.connectors, unknown))
    fair = solve(problem).by_id()["unknown"].now_a
    ahead = solve(_ahead(problem)).by_id()["unknown"].now_a
    assert fair > 0.0
    assert ahead >= fair - 1e-6


def test_rounding_to_the_minimum_is_planned_again_so_what_it_moves_goes_where_it_is_lost() -> None:
    """The plan gives a 3-phase car less than its 6 A minimum now; rounding raises it to 6 A
    and takes the difference from the EV that leaves within the hour and cannot finish.
    Planned again with the car fixed at its minimum, that EV gets everything the car does
    not need now, and the car makes it up later."""
    site_a = 24.0
    soon, later = START + timedelta(hours=1), START + timedelta(hours=3)
    leaving = [
        ev(f"deck{i}", (Phase.L3,), max_a=16.0, min_current_a=6.0, departure=d, energy_need_wh=2e4)
        for i, d in enumerate((soon, later))
    ]
    cars = [
        ev(
            f"car{i}",
            max_a=16.0,
            min_current_a=6.0,
            departure=START + timedelta(hours=h),
            energy_need_wh=3e3,
        )
        for i, h in enumerate((8, 2, 2))
    ]
    result = solve(
        Problem(
            site=SiteLimits(site_a),
            connectors=(*leaving, *cars),
            lookahead=Lookahead(START, STEP_S),
        )
    )
    by_id = result.by_id()
    charging_cars = [by_id[c.id].now_a for c in cars if by_id[c.id].now_a > 0.0]
    assert _phase_load(
        result, ["deck0", "deck1", "car0", "car1", "car2"], Phase.L3
    ) == pytest.approx(site_a, abs=1e-6)
    assert charging_cars
    assert all(a == pytest.approx(6.0, abs=1e-6) for a in charging_cars)
    assert by_id["deck0"].now_a > 6.0 + 1.0
