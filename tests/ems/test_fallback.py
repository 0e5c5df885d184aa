import pytest

from ems.commands import ProfilePurpose
from ems.fallback import compute_fallbacks
from ems.site import ControlSettings
from optimizer.problem import Circuit
from tests.ems.fakes import L1, L2, L3, FairShareSolver, connector, site
from tests.ems.harness import Harness


def test_equal_share_of_site_limit_minus_worst_base_load() -> None:
    s = site(*(connector(f"cp{i}") for i in range(5)), limit_a=63, worst_a=(25, 20, 20))
    plan = compute_fallbacks(s)
    assert set(plan.fallback_a.values()) == {7.6}  # (63 - 25) / 5 on L1
    assert all(limit.fits for limit in plan.limits)
    assert any("site-L1: room 38 A" in line for line in plan.explanation)


def test_one_phase_connectors_share_only_their_phase() -> None:
    s = site(
        connector("a", phases=(L1,)),
        connector("b", phases=(L1,)),
        connector("c", phases=(L2,)),
        limit_a=40,
        worst_a=(0, 0, 0),
    )
    plan = compute_fallbacks(s)
    assert plan.fallback_a == {"a/1": 20.0, "b/1": 20.0, "c/1": 32.0}


def test_circuit_caps_its_own_connectors() -> None:
    s = site(
        connector("a", circuit="row"),
        connector("b", circuit="row"),
        connector("c"),
        limit_a=100,
        worst_a=(10, 10, 10),
        circuits=(Circuit("row", 16),),
    )
    plan = compute_fallbacks(s)
    assert plan.fallback_a["a/1"] == 8.0
    assert plan.fallback_a["c/1"] == 30.0


def test_configured_fallback_kept_when_it_fits_and_others_share_the_rest() -> None:
    s = site(
        connector("a"),
        connector("b"),
        connector("c"),
        limit_a=40,
        worst_a=(10, 10, 10),
        fallback_a={"a": 6},
    )
    plan = compute_fallbacks(s)
    assert plan.fallback_a == {"a/1": 6.0, "b/1": 12.0, "c/1": 12.0}
    assert "a: configured fallback 6 A kept" in plan.explanation


def test_configured_fallback_that_does_not_fit_is_computed_instead() -> None:
    s = site(
        connector("a"),
        connector("b"),
        limit_a=32,
        worst_a=(10, 10, 10),
        fallback_a={"a": 16, "b": 16},
    )
    plan = compute_fallbacks(s)
    assert sum(plan.fallback_a.values()) <= 22
    assert any("does not fit" in line for line in plan.explanation)
    assert all(limit.fits for limit in plan.limits)


def test_power_cap_is_shared_in_watts() -> None:
    s = site(
        connector("a"),
        connector("b", phases=(L3,)),
        limit_a=63,
        worst_a=(0, 0, 0),
        power_limit_w=9200,
    )
    plan = compute_fallbacks(s)
    power = next(limit for limit in plan.limits if limit.name == "site-power")
    assert power.total <= 9200
    assert plan.fallback_a["a/1"] == pytest.approx(10.0)


def test_sum_of_fallbacks_fits_every_phase_and_circuit() -> None:
    s = site(
        connector("a", phases=(L2, L3, L1), circuit="c1"),
        connector("a", 2, phases=(L3,), circuit="c2"),
        connector("b", phases=(L1, L2, L3), circuit="c2"),
        connector("d", phases=(L1,)),
        limit_a=50,
        worst_a=(20, 5, 12),
        circuits=(Circuit("c1", 20), Circuit("c2", 18, parent="c1")),
    )
    plan = compute_fallbacks(s)
    worst = (20, 5, 12)
    for phase in (L1, L2, L3):
        total = sum(plan.fallback_a[c.key] for c in s.connectors() if phase in c.phases)
        assert total <= 50 - worst[phase] + 1e-9
    for circuit, members in (("c1", ("a/1", "a/2", "b/1")), ("c2", ("a/2", "b/1"))):
        limit = next(c.limit_a for c in s.circuits if c.id == circuit)
        for phase in (L1, L2, L3):
            total = sum(
                plan.fallback_a[c.key]
                for c in s.connectors()
                if c.key in members and phase in c.phases
            )
            assert total <= limit + 1e-9


def test_a_connector_its_default_does_not_hold_leaves_the_others_what_is_left() -> None:
    """A charger found drawing its 32 A whatever it is sent counts at that on every limit
    it is under; the others share the rest, so with no controller they still fit."""
    s = site(
        *(connector(f"cp{i}", circuit="row" if i < 2 else None) for i in range(5)),
        limit_a=63,
        worst_a=(20, 20, 20),
        circuits=(Circuit("row", 40),),
    )
    rogue = s.connectors()[0]
    plan = compute_fallbacks(s, fixed=((rogue, 32.0),))
    assert plan.fallback_a["cp0/1"] == 0.0
    # (63 - 20 - 32) / 4 = 2.7 A each, below the 6 A minimum: 0 A
    assert {plan.fallback_a[f"cp{i}/1"] for i in range(1, 5)} == {0.0}
    assert "cp1/1: 2.7 A is below its minimum 6 A: fallback 0 A" in "\n".join(plan.explanation)
    site_l1 = next(limit for limit in plan.limits if limit.name == "site-L1")
    assert site_l1.room == 63 - 20 - 32
    assert site_l1.fits
    row = next(limit for limit in plan.limits if limit.name == "circuit-row-L1")
    assert row.room == 40 - 32
    assert any("cp0/1: counted at 32 A whatever its fallback" in line for line in plan.explanation)


def test_fallbacks_fit_beside_a_measured_base_load_above_the_worst_configured() -> None:
    h = Harness(
        site(connector("a"), connector("b"), limit_a=63, worst_a=(20, 20, 20)),
        ControlSettings(period_s=10),
        FairShareSolver(),
    )
    assert h.controller.fallbacks.fallback_a["a/1"] == 21.5  # (63 - 20) / 2
    h.meter((33.2, 20, 20))  # the building draws more than anyone configured
    h.tick()  # measured at this step, refitted at the next tick
    h.advance(1)
    commands = h.tick()
    assert h.controller.fallbacks.fallback_a["a/1"] == 14.5  # (63 - 34) / 2 on L1
    assert {c.limit_now_a for c in commands if c.purpose is ProfilePurpose.TX_DEFAULT} == {14.5}


@pytest.mark.parametrize(("share_a", "fallback_a"), [(5.3, 0.0), (6.0, 6.0), (0.0, 0.0)])
def test_a_fallback_below_the_minimum_is_0_a(share_a: float, fallback_a: float) -> None:
    """Chargers differ on a limit below the minimum an EV can charge at: some pause, some
    charge at the minimum, above the limit. 0 A means the same to every one of them."""
    s = site(
        *(connector(f"cp{i}") for i in range(3)), limit_a=3 * share_a + 10, worst_a=(10, 10, 10)
    )
    plan = compute_fallbacks(s)
    assert {plan.fallback_a[c.key] for c in s.connectors()} == {fallback_a}
