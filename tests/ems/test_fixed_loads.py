"""The connectors whose default profile does not bound them (`Controller._fixed_loads`).

`Controller._ignores_default` reads a connector's profiles only where they can decide
(an unconfigured charger, or a sample that may raise the bound to `MEASURED`): it must
agree with the whole bound (`SiteState.bound`) on every connector, in every state the
walks below pass through — no EV, a session within its limit, one drawing above it, one
found non-compliant, a charger without smart charging, an unconfigured charger.
"""

from __future__ import annotations

from ems.bounds import IGNORES_DEFAULT
from ems.events import ChargerConnected
from ems.site import ControlSettings
from tests.ems.fakes import L1, L2, L3, connector, site
from tests.ems.harness import Harness

SETTINGS = ControlSettings(
    period_s=10, meter_stale_s=10, meter_recover_readings=3, reserve_for_arrivals=False
)


def two_chargers() -> Harness:
    s = site(connector("a"), connector("b", phases=(L2, L3, L1)), limit_a=63, worst_a=(30, 30, 30))
    return Harness(s, SETTINGS)


def assert_agrees_with_the_whole_bound(h: Harness) -> None:
    controller, now = h.controller, h.clock.now
    state = controller._state
    for runtime in state.connectors.values():
        bound = state.bound(runtime, now, SETTINGS)
        whole = (runtime.unconfigured and bound.limit_a > 0) or bound.source in IGNORES_DEFAULT
        assert controller._ignores_default(runtime, now) is whole, (runtime.key, bound)


def test_sessions_within_and_above_their_limits_and_non_compliance() -> None:
    h = two_chargers()
    h.scripted.currents = {"a/1": 10.0, "b/1": 10.0}
    h.meter((10, 10, 10))
    assert_agrees_with_the_whole_bound(h)
    h.start("a", "T1")
    h.start("b", "T2")
    h.tick()
    assert_agrees_with_the_whole_bound(h)
    for _ in range(7):
        h.advance(10)
        h.sample("a", (20.0, 20.0, 20.0))
        h.sample("b", (8.0, 8.0, 8.0))
        h.meter((40, 40, 40))
        assert_agrees_with_the_whole_bound(h)
        h.tick()
        assert_agrees_with_the_whole_bound(h)
    assert h.controller.view().connectors[0].non_compliant
    h.end("a", "T1")
    h.advance(10)
    h.tick()
    assert_agrees_with_the_whole_bound(h)


def test_a_charger_without_smart_charging_and_an_unconfigured_one() -> None:
    h = two_chargers()
    h.controller._state.chargers["b"].smart_charging = False
    h.meter((10, 10, 10))
    h.send(ChargerConnected("X", h.clock.now, "ocpp1.6"))
    assert_agrees_with_the_whole_bound(h)
    h.advance(10)
    h.sample("X", (5.0, 5.0, 5.0), connector_id=0)
    h.meter((20, 20, 20))
    h.tick()
    assert_agrees_with_the_whole_bound(h)
