"""Room held for arrivals: an EV plugging into an idle connector starts at the connector's
default (fallback) profile before the controller hears of it, on top of what the others
are allowed; the allocation leaves room for that (invariant 1)."""

from ems.capacity import assess
from ems.events import MeterReading
from ems.site import ConnectorConfig, ControlSettings
from ems.state import SiteState
from optimizer.problem import Circuit
from tests.ems.fakes import L2, T0, FairShareSolver, connector, site
from tests.ems.harness import Harness
from tests.ems.rules import install_defaults, set_charging

SETTINGS = ControlSettings()


def idle_site(*connectors: ConnectorConfig, fallbacks: dict[str, float]) -> SiteState:
    s = site(*connectors, circuits=(Circuit("row", 40),))
    state = install_defaults(SiteState.initial(s, SETTINGS, fallbacks))
    state.meter.observe(MeterReading("main", T0, True, (10.0, 10.0, 10.0)))
    return state


def test_idle_connectors_reserve_their_fallback_on_their_phases_when_an_ev_could_start() -> None:
    state = idle_site(
        connector("a", circuit="row"),
        connector("b", phases=(L2,)),
        connector("c", min_a=6.0),
        connector("d", min_a=0.0),
        fallbacks={"a/1": 8.0, "b/1": 10.0, "c/1": 5.0, "d/1": 0.0},
    )
    capacity = assess(state, SETTINGS, T0)
    # a: 8 A on each phase; b: 10 A on L2; c: 5 A is below its 6 A minimum, d: 0 A
    assert capacity.reserved_a == (8.0, 18.0, 8.0)
    assert capacity.circuit_reserved_a == {"row": (8.0, 8.0, 8.0)}
    assert capacity.fixed_load_a == (18.0, 28.0, 18.0)


def test_offline_and_not_obeying_chargers_count_too_and_the_setting_turns_it_off() -> None:
    state = idle_site(
        connector("a", max_a=16.0),
        connector("b"),
        connector("c"),
        fallbacks={"a/1": 8.0, "b/1": 8.0, "c/1": 8.0},
    )
    state.chargers["a"].smart_charging = False  # an arrival there draws its maximum
    state.chargers["b"].online = False  # an EV may arrive there unseen
    set_charging(state.connectors["c/1"], 12.0)  # steered: not an arrival
    assert assess(state, SETTINGS, T0).reserved_a == (24.0, 24.0, 24.0)
    off = ControlSettings(reserve_for_arrivals=False)
    assert assess(state, off, T0).reserved_a == (0.0, 0.0, 0.0)


def test_a_session_is_allowed_the_limit_less_base_load_less_the_idle_fallbacks() -> None:
    s = site(connector("a"), connector("b"), limit_a=32, worst_a=(10, 10, 10))
    h = Harness(s, ControlSettings(period_s=10), FairShareSolver())
    fallback = h.controller.fallbacks.fallback_a["b/1"]
    assert fallback >= 6.0
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.tick()
    view = h.controller.view()
    assert h.limit_of("a/1") == 32 - 10 - fallback
    assert view.reserved_a == (fallback,) * 3
    idle = next(c for c in view.connectors if c.key == "b/1")
    assert idle.reason == f"no EV; {fallback:g} A held for an arriving EV"
