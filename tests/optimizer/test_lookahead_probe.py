"""Without prices, an EV whose phases are not seen yet, on a connector of more than one
phase, charges at least `PROBE_A` now when its minimum allows: planned on every phase of
its connector, a 1-phase EV would otherwise wait for the busiest phase while its own has
room."""

from __future__ import annotations

from datetime import timedelta

import pytest

from optimizer import Connector, Lookahead, Phase, Problem, SiteLimits, solve
from optimizer.lookahead import PROBE_A
from tests.optimizer.helpers import START, THREE, ev

HOUR = timedelta(hours=1)


def _l1_taken_by_a_leaver(later: Connector) -> Problem:
    """`a` (1-phase on L1) needs all of L1's 32 A for the hour it stays; `later` stays ten
    hours and has time enough after `a` has left."""
    leaver = ev(
        "a",
        phases=(Phase.L1,),
        max_a=32.0,
        min_current_a=0.0,
        departure=START + HOUR,
        energy_need_wh=32 * 230.0,
    )
    return Problem(
        site=SiteLimits(32.0),
        connectors=(leaver, later),
        lookahead=Lookahead(START, 300.0),
    )


def _later(**kw: object) -> Connector:
    options: dict[str, object] = {
        "max_a": 16.0,
        "min_current_a": 0.0,
        "departure": START + 10 * HOUR,
        "energy_need_wh": 10_000.0,
    }
    return ev("b", **(options | kw))


def test_an_ev_whose_phases_are_not_seen_charges_at_the_probe_current() -> None:
    now = solve(_l1_taken_by_a_leaver(_later())).by_id()
    assert now["b"].now_a == pytest.approx(PROBE_A, abs=0.01)
    assert now["a"].now_a == pytest.approx(32.0 - PROBE_A, abs=0.01)


def test_once_its_phases_are_seen_it_waits() -> None:
    now = solve(_l1_taken_by_a_leaver(_later(ev_phases=THREE))).by_id()
    assert now["b"].now_a == pytest.approx(0.0, abs=0.01)
    assert now["a"].now_a == pytest.approx(32.0, abs=0.01)


def test_at_a_6_a_minimum_there_is_no_probe() -> None:
    now = solve(_l1_taken_by_a_leaver(_later(min_current_a=6.0))).by_id()
    assert now["b"].now_a == pytest.approx(0.0, abs=0.01)
