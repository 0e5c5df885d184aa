"""The controller with the real optimizer behind its port."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import Phase as Stage
from hypothesis import strategies as st

from ems.site import ControlSettings, SiteConfig
from optimizer.problem import Circuit
from tests.ems.fakes import L2, THREE, connector, site
from tests.ems.harness import Harness, tx_limits
from tests.ems.test_invariant_limits import run_invariant_scenario, sites

solver_module = pytest.importorskip("optimizer.solver")

SETTINGS = ControlSettings(period_s=10)


def harness(s: SiteConfig, control: ControlSettings = SETTINGS) -> Harness:
    return Harness(s, control, solver_module.Solver())


def test_two_sessions_share_what_the_base_load_leaves() -> None:
    h = harness(site(connector("a"), connector("b"), limit_a=32, worst_a=(20, 20, 20)))
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.start("b", "T2")
    assert tx_limits(h.tick()) == {"a/1": 11.0, "b/1": 11.0}
    view = h.controller.view()
    assert view.connectors[0].bottleneck is not None
    assert view.connectors[0].bottleneck.startswith("site-L")


def test_one_phase_ev_leaves_the_other_phases_to_others() -> None:
    h = harness(site(connector("a", phases=(L2,)), connector("b"), limit_a=32, worst_a=(0, 0, 0)))
    h.meter((0, 0, 0))
    h.start("a", "T1")
    h.start("b", "T2")
    limits = tx_limits(h.tick())
    assert limits["a/1"] + limits["b/1"] <= 32.0
    assert limits["b/1"] >= 16.0


def test_circuit_caps_its_connectors_only() -> None:
    s = site(
        connector("a", circuit="row"),
        connector("b", circuit="row"),
        connector("c"),
        limit_a=63,
        worst_a=(0, 0, 0),
        circuits=(Circuit("row", 16),),
    )
    h = harness(s)
    h.meter((0, 0, 0))
    for cp, tx in (("a", "T1"), ("b", "T2"), ("c", "T3")):
        h.start(cp, tx)
    assert tx_limits(h.tick()) == {"a/1": 8.0, "b/1": 8.0, "c/1": 32.0}


def test_conservative_mode_with_the_real_solver() -> None:
    h = harness(site(connector("a"), connector("b"), limit_a=32, worst_a=(20, 20, 20)))
    h.start("a", "T1")
    h.start("b", "T2")
    limits = tx_limits(h.tick())
    assert sum(limits.values()) <= 12.0


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,  # as the other invariant tests: CI is not where a new example is hunted
    phases=(Stage.explicit, Stage.reuse, Stage.generate, Stage.shrink),
)
@given(s=sites(), data=st.data())
def test_invariant_holds_with_the_real_solver(s: SiteConfig, data: st.DataObject) -> None:
    run_invariant_scenario(s, data, solver_module.Solver())


def test_a_day_of_five_minute_steps_for_55_connectors_solves_every_step_within_the_limit() -> None:
    """The replay drives this many steps: every one is solved to optimality, no limit is
    exceeded and no session is paused (there is room for every minimum). How fast it runs
    is measured by `benchmarks/replay.py`, not asserted here."""
    connectors = [connector(f"cp{i}", phases=(L2,) if i % 5 == 0 else THREE) for i in range(55)]
    s = site(*connectors, limit_a=250, worst_a=(50, 50, 50))
    h = harness(s, ControlSettings(period_s=300))
    h.meter((50, 50, 50))
    sessions = [f"cp{i}/1" for i in range(0, 55, 2)]
    for i in range(0, 55, 2):
        h.start(f"cp{i}", f"T{i}")
    for _ in range(288):
        h.advance(300)
        limits = {c.key: c.limit_a for c in h.controller.view().connectors}
        meter = [50.0, 50.0, 50.0]
        for i in range(0, 55, 2):
            amps = min(limits[f"cp{i}/1"], 10.0)
            h.sample(f"cp{i}", (amps, amps, amps))
            for phase in connectors[i].phases:
                meter[phase] += amps
        h.meter((meter[0], meter[1], meter[2]))
        h.tick()
        view = h.controller.view()
        assert view.at == h.clock.now
        assert view.solve_status == "optimal"
        assert max(view.allowed_total_a) <= 250 + 1e-6
        assert all(c.limit_a >= 6 for c in view.connectors if c.key in sessions)
