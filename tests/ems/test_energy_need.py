"""A stated energy need counts down from the charger's register, whether or not a meter
sample came before the need."""

from __future__ import annotations

import pytest

from ems.events import EnergyNeed, MeterSample, SessionStarted
from ems.site import ControlSettings
from optimizer.problem import Problem
from tests.ems.fakes import connector, site
from tests.ems.harness import Harness, tx_limits

SETTINGS = ControlSettings(period_s=10)


def harness() -> Harness:
    h = Harness(site(connector("a"), limit_a=63, worst_a=(0, 0, 0)), SETTINGS)
    h.scripted.currents = {"a/1": 16.0}
    return h


def start(h: Harness, meter_start_wh: float | None) -> None:
    h.send(SessionStarted("a", 1, "T1", h.clock.now, meter_start_wh=meter_start_wh))


def need(h: Harness, energy_wh: float) -> None:
    h.send(EnergyNeed("a", 1, h.clock.now, energy_wh=energy_wh))


def register(h: Harness, energy_wh: float, transaction_id: str | None = "T1") -> None:
    h.send(MeterSample("a", 1, h.clock.now, transaction_id, energy_wh=energy_wh))


def planned_need(h: Harness) -> float | None:
    h.advance(10)
    h.tick()
    problem: Problem = h.scripted.problems[-1]
    return next(c.energy_need_wh for c in problem.connectors if c.id == "a/1")


def test_need_right_after_start_counts_from_the_meter_start() -> None:
    h = harness()
    start(h, meter_start_wh=1000.0)
    need(h, 5000.0)
    assert planned_need(h) == 5000.0
    register(h, 3000.0)
    assert planned_need(h) == 3000.0
    register(h, 6500.0)
    assert planned_need(h) == 0.0


def test_need_without_a_meter_start_counts_from_the_first_sample() -> None:
    h = harness()
    start(h, meter_start_wh=None)
    need(h, 5000.0)
    assert planned_need(h) == 5000.0
    register(h, 200.0)
    assert planned_need(h) == 5000.0
    register(h, 1200.0)
    assert planned_need(h) == 4000.0


def test_need_after_a_sample_counts_from_that_sample() -> None:
    h = harness()
    start(h, meter_start_wh=1000.0)
    register(h, 2000.0)
    need(h, 5000.0)
    register(h, 2500.0)
    assert planned_need(h) == 4500.0


def test_a_previous_sessions_register_and_other_transactions_do_not_count() -> None:
    h = harness()
    start(h, meter_start_wh=0.0)
    register(h, 9000.0)
    h.end("a", "T1")
    h.advance(10)
    h.send(SessionStarted("a", 1, "T2", h.clock.now, meter_start_wh=9000.0))
    h.send(EnergyNeed("a", 1, h.clock.now, energy_wh=5000.0))
    register(h, 14000.0, transaction_id="T1")
    assert planned_need(h) == 5000.0
    register(h, 10000.0, transaction_id="T2")
    assert planned_need(h) == 4000.0


def test_a_met_need_pauses_the_session_with_the_real_optimizer() -> None:
    solver = pytest.importorskip("optimizer.solver").Solver()
    h = Harness(site(connector("a"), limit_a=63, worst_a=(0, 0, 0)), SETTINGS, solver)
    h.meter((0, 0, 0))
    start(h, meter_start_wh=1000.0)
    need(h, 5000.0)
    assert tx_limits(h.tick()) == {"a/1": 32.0}
    h.advance(10)
    register(h, 6000.0)
    h.meter((0, 0, 0))
    assert tx_limits(h.tick()) == {"a/1": 0.0}
    assert "energy need is met" in h.controller.view().connectors[0].reason
