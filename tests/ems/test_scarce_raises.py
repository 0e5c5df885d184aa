"""A raise the deadband holds goes out where a limit the connector shares binds: the room
it would leave is room no session gets."""

from __future__ import annotations

from ems.site import ControlSettings
from optimizer.problem import Circuit
from tests.ems.fakes import ScriptedSolver, connector, site
from tests.ems.harness import Harness, tx_limits

SETTINGS = ControlSettings(period_s=10, deadband_a=1.0, min_update_interval_s=60)


def _charging_at_11(binding: tuple[str, ...]) -> Harness:
    """Two 3-phase sessions sent 11 A each, drawing it, a minute ago; the solver now
    wants 11.4 A for each (a raise within the 1 A deadband), with `binding` binding."""
    s = site(
        connector("a"),
        connector("b", circuit="row"),
        limit_a=32,
        worst_a=(10, 10, 10),
        circuits=(Circuit("row", 32),),
    )
    h = Harness(s, SETTINGS, ScriptedSolver({"a/1": 11.0, "b/1": 11.0}))
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.start("b", "T2")
    assert tx_limits(h.tick()) == {"a/1": 11.0, "b/1": 11.0}
    h.advance(60)
    h.sample("a", (11, 11, 11))
    h.sample("b", (11, 11, 11))
    h.meter((31.2, 31.2, 31.2))
    h.scripted.currents = {"a/1": 11.4, "b/1": 11.4}
    h.scripted.binding = binding
    return h


def test_a_small_raise_waits_where_nothing_shared_binds() -> None:
    h = _charging_at_11(("connector-a/1-max",))
    assert tx_limits(h.tick()) == {}
    assert h.limit_of("a/1") == 11.0
    assert "deadband" in h.controller.view().connectors[0].reason


def test_a_small_raise_goes_out_where_the_site_binds() -> None:
    h = _charging_at_11(("site-L2",))
    assert tx_limits(h.tick()) == {"a/1": 11.4, "b/1": 11.4}
    assert "site-L2 binds" in h.controller.view().connectors[0].reason


def test_a_binding_circuit_sends_the_raises_of_its_own_connectors_only() -> None:
    h = _charging_at_11(("circuit-row-L1",))
    assert tx_limits(h.tick()) == {"b/1": 11.4}
    assert h.limit_of("a/1") == 11.0
