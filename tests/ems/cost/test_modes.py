"""Charging modes bound each session; none relaxes a limit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from ems.modes import apply_modes
from ems.replay import replay
from ems.replay.cost_scenarios import rooftop_pv
from ems.site import ChargingMode
from optimizer.problem import Connector, Phase
from tests.ems.replay.conftest import START

THREE = (Phase.L1, Phase.L2, Phase.L3)
VOLTAGE_V = 230.0
W_AT_6_A = 6 * 3 * VOLTAGE_V  # 4140 W


def _ev(cid: str, priority: float = 1.0, minutes: int = 0) -> Connector:
    return Connector(
        id=cid,
        phases=THREE,
        max_current_a=16.0,
        ev_present=True,
        priority=priority,
        arrival=START + timedelta(minutes=minutes),
        departure=START + timedelta(hours=8),
        energy_need_wh=10_000.0,
    )


def _by_id(connectors: tuple[Connector, ...]) -> dict[str, Connector]:
    return {c.id: c for c in connectors}


def test_planned_is_left_alone_and_fast_is_not_planned() -> None:
    modes = {"a": ChargingMode.PLANNED, "b": ChargingMode.FAST}
    out = _by_id(apply_modes((_ev("a"), _ev("b")), modes, 0.0, VOLTAGE_V))
    assert out["a"] == _ev("a")
    assert out["b"].departure is None
    assert out["b"].ev_max_current_a is None


def test_solar_sessions_share_the_surplus_so_that_most_reach_their_minimum() -> None:
    """1.5 times one session's minimum: the most urgent gets all of it, the other waits
    rather than both sharing below their minimum."""
    modes = {"a": ChargingMode.SOLAR, "b": ChargingMode.SOLAR}
    evs = (_ev("a", priority=1.0), _ev("b", priority=2.0))
    out = _by_id(apply_modes(evs, modes, 1.5 * W_AT_6_A, VOLTAGE_V))
    assert out["b"].ev_max_current_a == pytest.approx(9.0)
    assert out["a"].ev_max_current_a == 0.0
    assert out["a"].departure is None


def test_min_plus_solar_keeps_the_minimum_and_adds_the_surplus_left() -> None:
    modes = {"a": ChargingMode.MIN_SOLAR, "b": ChargingMode.MIN_SOLAR}
    evs = (_ev("a"), _ev("b", minutes=5))
    out = _by_id(apply_modes(evs, modes, 0.0, VOLTAGE_V))
    assert [out[k].ev_max_current_a for k in "ab"] == [6.0, 6.0]
    out = _by_id(apply_modes(evs, modes, 3 * W_AT_6_A, VOLTAGE_V))
    assert [out[k].ev_max_current_a for k in "ab"] == pytest.approx([12.0, 6.0])


def test_a_solar_site_charges_its_evs_from_the_surplus_only() -> None:
    scenario = rooftop_pv()
    site = scenario.site
    site = replace(site, chargers=tuple(replace(c, mode=ChargingMode.SOLAR) for c in site.chargers))
    result = replay(replace(scenario, site=site), "optimal")
    ev_w = result.connector_power_w.sum(axis=1)
    surplus_w = np.clip(-result.timeline.base_load_a.sum(axis=1) * VOLTAGE_V, 0.0, None)
    assert ev_w.sum() > 0.0
    # The shares are set from the last meter reading and the EVs' last samples, so a
    # step may import a little (118 W once on this day); charging at the minimum without
    # a surplus would import kilowatts.
    imported_w = np.clip(ev_w - surplus_w, 0.0, None)
    assert (imported_w <= 0.01 * surplus_w + 1.0).all()
    assert imported_w.sum() <= 0.001 * ev_w.sum()
