"""Raises go only into proven room, also on a fresh site where no charger has confirmed a
profile yet: each is counted at its maximum, so what holds the site is what the EVs
actually draw, and a first limit above that waits until the others are proven."""

from __future__ import annotations

from ems.commands import ProfilePurpose
from ems.events import ChargerConnected
from ems.site import ControlSettings
from tests.ems.fakes import FairShareSolver, connector, site
from tests.ems.harness import Harness, tx_limits

SETTINGS = ControlSettings(period_s=10, min_update_interval_s=0, reaction_s=5.0)


def fresh_site() -> Harness:
    """Two 3-phase EVs drawing 8 A each on a 40 A fuse; no default profile confirmed."""
    s = site(connector("a"), connector("b"), limit_a=40, worst_a=(10, 10, 10))
    h = Harness(s, SETTINGS, FairShareSolver(), accept=False, installed=False)
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.start("b", "T2")
    h.advance(1)
    h.sample("a", (8, 8, 8))
    h.sample("b", (8, 8, 8))
    h.meter((26, 26, 26))
    return h


def test_a_first_limit_above_what_an_unproven_ev_draws_waits_for_the_others_proof() -> None:
    h = fresh_site()
    assert tx_limits(h.tick()) == {}, "15 A each would fit only if the other held 15 A"
    view = h.controller.view()
    assert set(view.held_raises) == {"a/1", "b/1"}
    assert set(view.unproven) == {"a/1", "b/1"}
    defaults = [
        c
        for c in h.send(ChargerConnected("a", h.clock.now, "ocpp1.6"))
        + h.send(ChargerConnected("b", h.clock.now, "ocpp1.6"))
        if c.purpose is ProfilePurpose.TX_DEFAULT
    ]
    for command in defaults:
        h.answer(command, accepted=True, status="Accepted")
    h.advance(SETTINGS.reaction_s)
    h.sample("a", (8, 8, 8))
    h.sample("b", (8, 8, 8))
    h.meter((26, 26, 26))
    assert tx_limits(h.tick()) == {"a/1": 15.0, "b/1": 15.0}
