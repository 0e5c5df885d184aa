"""EDF, LLF and round robin as ACN-Sim defines them, on cases worked out by hand.

`roomy_site`: connectors a/1 and a/2 are 3-phase 16 A, b/1 is 1-phase 16 A on L2; every
minimum is 6 A. 230 V; 5-minute steps.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ems.replay.baselines import RoundRobin, SortedGreedy
from ems.replay.engine import ev_phases
from ems.replay.scenario import SessionSpec
from ems.replay.view import PluggedEv, StepView
from ems.site import SiteConfig

from .conftest import START, roomy_site


def _view(
    site: SiteConfig,
    limit_a: float,
    *plugs: tuple[str, float, float],
    power_limit_w: float | None = None,
) -> StepView:
    """Plugged EVs as (connector, hours until departure, kWh still wanted), arrived in
    that order; base load 0."""
    connectors = {c.key: c for c in site.connectors()}
    plugged = []
    for i, (key, leave_h, energy_kwh) in enumerate(plugs):
        connector = connectors[key]
        spec = SessionSpec(
            session_id=f"s{i}",
            connector=key,
            arrival=START - timedelta(minutes=10 - i),
            departure=START + timedelta(hours=leave_h),
            energy_wh=energy_kwh * 1000.0,
            max_power_w=22_000.0,
            phases=len(connector.phases),
        )
        plugged.append(PluggedEv(spec, connector, ev_phases(connector, spec), 16.0, 0, 0, False))
    return StepView(0, START, 300.0, (0.0, 0.0, 0.0), limit_a, power_limit_w, tuple(plugged))


def test_edf_serves_the_earliest_departure_first() -> None:
    site = roomy_site()
    view = _view(site, 22.0, ("a/1", 4.0, 20.0), ("a/2", 2.0, 20.0))
    assert SortedGreedy(site, "edf").decide(view) == {"a/1": 6.0, "a/2": 16.0}


def test_llf_serves_the_least_laxity_first_where_edf_would_not() -> None:
    # a/1: 3 h left, 30 kWh at 16 A × 3 × 230 V takes 2.72 h: laxity 0.28 h.
    # a/2: 2 h left, 5 kWh takes 0.45 h: laxity 1.55 h.
    site = roomy_site()
    view = _view(site, 23.0, ("a/1", 3.0, 30.0), ("a/2", 2.0, 5.0))
    assert SortedGreedy(site, "llf").decide(view) == {"a/1": 16.0, "a/2": 7.0}
    assert SortedGreedy(site, "edf").decide(view) == {"a/1": 7.0, "a/2": 16.0}


def test_a_session_gets_no_more_than_its_remainder_needs_in_one_step() -> None:
    # 0.5 kWh in 300 s on 3 phases: 500 × 3600 / (230 × 3 × 300) = 8.696 A.
    site = roomy_site()
    view = _view(site, 20.0, ("a/1", 1.0, 0.5), ("a/2", 2.0, 20.0))
    limits = SortedGreedy(site, "edf").decide(view)
    assert limits["a/1"] == pytest.approx(500 * 3600 / (230 * 3 * 300))
    assert limits["a/2"] == pytest.approx(20.0 - limits["a/1"])


@pytest.mark.parametrize("order", ["edf", "llf"])
def test_on_the_grid_each_session_gets_the_largest_grid_value_that_fits(order: str) -> None:
    # a/1 finishes 0.5 kWh within the step at 8.696 A, which the grid floors to 8.6 A;
    # a/2 gets what is left of 20 A, 11.4 A, where the continuous one gets 11.304 A.
    site = roomy_site()
    view = _view(site, 20.0, ("a/1", 1.0, 0.5), ("a/2", 2.0, 5.0))
    on_grid = SortedGreedy(site, order, on_grid=True).decide(view)
    continuous = SortedGreedy(site, order).decide(view)
    assert on_grid == {"a/1": 8.6, "a/2": 11.4}
    assert continuous["a/2"] == pytest.approx(20.0 - 500 * 3600 / (230 * 3 * 300))


def test_on_the_grid_a_session_whose_minimum_no_longer_fits_is_paused() -> None:
    # 6.05 A is left for the second EV: 6.0 A on the grid, at its 6 A minimum; at 5.95 A
    # left, the grid's 5.9 A is below it.
    site = roomy_site()
    for left_a, expected in ((6.05, 6.0), (5.95, 0.0)):
        view = _view(site, 16.0 + left_a, ("a/1", 1.0, 20.0), ("a/2", 2.0, 20.0))
        assert SortedGreedy(site, "edf", on_grid=True).decide(view) == {
            "a/1": 16.0,
            "a/2": expected,
        }


def test_the_power_cap_is_shared_in_order() -> None:
    # 16.56 kW: the first EV takes 16 A × 3 × 230 V = 11.04 kW, the second 5.52 kW = 8 A.
    site = roomy_site()
    view = _view(site, 100.0, ("a/1", 4.0, 20.0), ("a/2", 2.0, 20.0), power_limit_w=16_560.0)
    limits = SortedGreedy(site, "edf").decide(view)
    assert limits == {"a/1": pytest.approx(8.0), "a/2": 16.0}


def test_a_session_whose_minimum_does_not_fit_is_paused() -> None:
    # L2 keeps 18 - 16 = 2 A for the 1-phase EV, below its 6 A minimum.
    site = roomy_site()
    view = _view(site, 18.0, ("a/1", 2.0, 20.0), ("b/1", 4.0, 10.0))
    assert SortedGreedy(site, "edf").decide(view) == {"a/1": 16.0, "b/1": 0.0}


def test_sorted_greedy_rejects_an_unknown_order() -> None:
    with pytest.raises(ValueError, match="magic"):
        SortedGreedy(roomy_site(), "magic")


def test_round_robin_hands_on_what_a_nearly_full_session_cannot_use() -> None:
    # Everyone starts at 6 A (18 A on L2); a/1 needs only 0.2 kWh (3.5 A, held at its 6 A
    # minimum), so the last 2 A on L2 go to the other two: 7 A each.
    site = roomy_site()
    view = _view(site, 20.0, ("a/1", 2.0, 0.2), ("a/2", 3.0, 20.0), ("b/1", 4.0, 10.0))
    limits = RoundRobin(site).decide(view)
    assert limits == {"a/1": 6.0, "a/2": pytest.approx(7.0), "b/1": pytest.approx(7.0)}


def test_round_robin_pauses_the_latest_arrival_when_minimums_do_not_fit() -> None:
    site = roomy_site()
    view = _view(site, 14.0, ("a/1", 2.0, 20.0), ("a/2", 3.0, 20.0), ("b/1", 4.0, 10.0))
    limits = RoundRobin(site).decide(view)
    assert limits == {"a/1": pytest.approx(7.0), "a/2": pytest.approx(7.0), "b/1": 0.0}


def test_round_robin_fills_the_other_phases_once_one_is_full() -> None:
    # L2 carries all three EVs and is full at 20/3 A each; nothing else can rise, since
    # the 3-phase EVs need L2 too.
    site = roomy_site()
    view = _view(site, 20.0, ("a/1", 2.0, 20.0), ("a/2", 3.0, 20.0), ("b/1", 4.0, 10.0))
    limits = RoundRobin(site).decide(view)
    assert all(v == pytest.approx(20.0 / 3) for v in limits.values())
