"""Raises go only into proven room, also on a fresh site where no charger has confirmed a
profile yet: each is counted at its maximum, so what holds the site is what the EVs
actually draw, and a first limit above that waits until the others are proven."""

from __future__ import annotations

from ems.commands import ProfilePurpose
from ems.events import ChargerConnected
from ems.site import ControlSettings
from optimizer.problem import Circuit, Phase
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


def busy_site(a_max: float) -> Harness:
    """`a` alone charges at its maximum on a 40 A fuse beside 10 A of base load. Six
    connectors share the 30 A left, so their fallbacks (5 A) are below the 6 A minimum:
    0 A, and no room is held for an arriving EV."""
    others = [connector(name) for name in "bcdef"]
    s = site(connector("a", max_a=a_max), *others, limit_a=40, worst_a=(10, 10, 10))
    h = Harness(s, SETTINGS, FairShareSolver())
    h.meter((10, 10, 10))
    assert tx_limits(h.start("a", "T1") + h.tick()) == {"a/1": a_max}
    h.advance(SETTINGS.period_s)
    h.sample("a", (a_max, a_max, a_max))
    h.meter((10 + a_max, 10 + a_max, 10 + a_max))
    return h


def test_the_part_of_a_raise_the_proven_room_holds_goes_out_at_once() -> None:
    """`a` draws 24 A; `b` arrives and the plan gives each 15 A. Until `a`'s EV had its
    reaction time to follow the lowering, only 6 A are proven free: `b` charges on those
    at once, and gets the rest once `a` is proven at 15 A."""
    h = busy_site(24)
    h.start("b", "T2")
    assert tx_limits(h.tick()) == {"a/1": 15.0, "b/1": 6.0}
    view = h.controller.view()
    assert set(view.held_raises) == {"b/1"}
    b = next(c for c in view.connectors if c.key == "b/1")
    assert b.limit_a == 6.0
    assert "6 A now" in b.reason
    h.advance(SETTINGS.reaction_s)
    h.sample("a", (15, 15, 15))
    h.sample("b", (6, 6, 6))
    h.meter((31, 31, 31))
    assert tx_limits(h.tick()) == {"b/1": 15.0}
    assert h.controller.view().held_raises == ()


def test_no_part_goes_out_below_the_minimum_current() -> None:
    """With 4 A proven free and a 6 A minimum, the arriving EV waits for the whole raise."""
    h = busy_site(26)
    h.start("b", "T2")
    assert tx_limits(h.tick()) == {"a/1": 15.0}
    assert set(h.controller.view().held_raises) == {"b/1"}


def test_a_first_limit_above_the_default_sent_to_an_unproven_ev_waits_for_room() -> None:
    """On a fresh site `c`'s default profile is sent but not yet answered (counted at its
    maximum), while `a` and `b` are proven at their defaults. The plan lowers `a` and `b`
    to 6 A and gives `c` 20 A. `c`'s EV may well be holding to the default it was sent:
    20 A is a raise, and with `a` and `b` still allowed their defaults it would put the
    32 A circuit over. It waits."""
    row = (Circuit("row", 32.0),)
    s = site(
        connector("a", circuit="row"),
        connector("b", circuit="row"),
        connector("c", circuit="row", phases=(Phase.L1,)),
        limit_a=63,
        worst_a=(10, 10, 10),
        circuits=row,
    )
    h = Harness(s, SETTINGS, accept=False, installed=False)
    defaults = {}
    for charger_id in "abc":
        for command in h.connect(charger_id):
            if command.purpose is ProfilePurpose.TX_DEFAULT:
                defaults[charger_id] = command
    h.answer(defaults["a"], accepted=True, status="Accepted")
    h.answer(defaults["b"], accepted=True, status="Accepted")
    h.advance(SETTINGS.reaction_s + 1)
    h.meter((10, 10, 10))
    for charger_id in "abc":
        h.start(charger_id, f"T-{charger_id}")
    h.scripted.currents = {"a/1": 6.0, "b/1": 6.0, "c/1": 20.0}
    sent = tx_limits(h.tick())
    fallback_a = defaults["c"].limit_now_a
    assert sent.get("c/1", fallback_a) <= fallback_a
    assert "c/1" in h.controller.view().held_raises
    assert sent["a/1"] == 6.0


def test_a_pause_for_a_limit_full_without_us_drops_the_raise_held_from_before() -> None:
    """`b` waits for the rest of its raise when the building alone comes to fill the fuse:
    the step pauses every session, and the answers to those pauses release nothing."""
    h = busy_site(24)
    h.accept = False
    h.start("b", "T2")
    h.tick()
    assert "b/1" in h.controller.view().held_raises
    h.advance(SETTINGS.period_s)
    h.sample("a", (24, 24, 24))
    h.meter((64, 64, 64))  # the building draws 40 A beside a's 24
    pauses = [c for c in h.tick() if c.purpose is ProfilePurpose.TX]
    assert {f"{c.charger_id}/{c.connector_id}": c.limit_now_a for c in pauses} == {
        "a/1": 0.0,
        "b/1": 0.0,
    }
    released = [limit for c in pauses for limit in h.answer(c, accepted=True, status="Accepted")]
    assert tx_limits(released) == {}
    assert h.controller.view().held_raises == ()
