"""A charger admitted by policy but absent from the configuration charges inside the model:
it is counted on every phase at `unknown_charger_max_a` until it accepts a 0 A default
profile, then at what it is measured drawing above that — never left out."""

from __future__ import annotations

from ems.commands import ProfilePurpose
from ems.events import ChargerAdmitted, ChargerConnected
from ems.site import ControlSettings
from ems.view import ConnectorView
from tests.ems.fakes import FairShareSolver, connector, site
from tests.ems.harness import Harness, set_limits

SETTINGS = ControlSettings(period_s=10, min_update_interval_s=0, reaction_s=5.0)


def harness(accept: bool = True) -> Harness:
    s = site(connector("a"), limit_a=63, worst_a=(10, 10, 10))
    h = Harness(s, SETTINGS, FairShareSolver(), accept=accept)
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.tick()
    return h


def unconfigured_view(h: Harness) -> ConnectorView:
    return next(c for c in h.controller.view(h.clock.now).connectors if c.key == "X/0")


def test_an_unconfigured_charger_gets_a_0_A_default_and_is_counted_at_its_maximum_till_then() -> (
    None
):
    h = harness(accept=False)
    commands = set_limits(h.send(ChargerConnected("X", h.clock.now, "ocpp1.6")))
    defaults = [c for c in commands if c.charger_id == "X"]
    assert [(c.purpose, c.connector_id, c.limit_now_a) for c in defaults] == [
        (ProfilePurpose.TX_DEFAULT, 0, 0.0)
    ]
    view = unconfigured_view(h)
    assert view.state == "unconfigured"
    assert view.bound_a == SETTINGS.unknown_charger_max_a
    assert not view.bound_proven
    h.advance(10)
    h.meter((10, 10, 10))
    h.tick()
    # a: 63 A less 10 A of base load less the unconfigured charger's 32 A
    assert h.limit_of("a/1") == 63 - 10 - 32
    assert "configure it to let it charge" in unconfigured_view(h).reason
    h.answer(defaults[0], accepted=True, status="Accepted")
    h.advance(SETTINGS.reaction_s)
    assert unconfigured_view(h).bound_a == 0.0
    h.advance(5)
    h.meter((10, 10, 10))
    h.tick()
    assert h.limit_of("a/1") == 32, "a's own maximum, once X is held at 0 A"


def test_an_unconfigured_charger_drawing_anyway_is_counted_at_what_it_draws() -> None:
    h = harness()
    h.send(ChargerConnected("X", h.clock.now, "ocpp1.6"))
    h.advance(10)
    h.sample("X", (12, 12, 12), connector_id=1)
    assert unconfigured_view(h).bound_a == 12.0
    h.meter((10 + 12, 10 + 12, 10 + 12))
    h.tick()
    assert h.controller.view().reserved_a == (12.0, 12.0, 12.0)


def test_a_pending_or_offline_unconfigured_charger_counts_too() -> None:
    h = harness()
    h.send(ChargerAdmitted("P", h.clock.now))
    view = next(c for c in h.controller.view(h.clock.now).connectors if c.key == "P/0")
    assert view.state == "unconfigured"
    assert view.bound_a == SETTINGS.unknown_charger_max_a
    h.advance(10)
    h.meter((10, 10, 10))
    h.tick()
    assert h.controller.view().reserved_a == (32.0, 32.0, 32.0)
