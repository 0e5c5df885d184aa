from ems.capacity import assess
from ems.problem_builder import build_problem
from ems.site import ControlSettings
from ems.state import SiteState
from optimizer.problem import Connector, Phase
from tests.ems.fakes import L3, T0, connector, site
from tests.ems.rules import install_defaults

SETTINGS = ControlSettings()


def test_a_connector_without_a_session_is_its_configuration_with_no_ev() -> None:
    config = connector("a", 2, phases=(L3,), max_a=16.0, min_a=8.0, circuit=None, priority=2.0)
    s = site(config, connector("b"))
    state = install_defaults(SiteState.initial(s, SETTINGS, {c.key: 6.0 for c in s.connectors()}))
    first = build_problem(state, assess(state, SETTINGS, T0), SETTINGS, T0)
    again = build_problem(state, assess(state, SETTINGS, T0), SETTINGS, T0)
    idle = first.connectors[0]
    assert idle == Connector(
        id="a/2",
        phases=(Phase.L3,),
        max_current_a=16.0,
        circuit=None,
        min_current_a=8.0,
        priority=2.0,
    )
    assert not idle.ev_present
    assert again.connectors[0] is idle  # built once per configured connector
