"""A changed site limit: a lowering goes out at once, a raise waits for the rate limits,
the new limit holds from then on, and the fallbacks follow it."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from ems.commands import ProfilePurpose, SetLimit
from ems.events import SiteLimitChanged
from ems.site import ControlSettings
from ems.view import ControllerView
from tests.ems.fakes import FairShareSolver, connector, site
from tests.ems.harness import Harness, set_limits, tx_limits

SETTINGS = ControlSettings(period_s=10, min_update_interval_s=60)


def harness(power_limit_w: float | None = None) -> Harness:
    s = site(
        connector("a"), connector("b"), limit_a=63, worst_a=(5, 5, 5), power_limit_w=power_limit_w
    )
    h = Harness(s, SETTINGS, FairShareSolver())
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.start("b", "T2")
    assert tx_limits(h.tick()) == {"a/1": 26.5, "b/1": 26.5}
    return h


def set_total_a(view: ControllerView) -> float:
    """The busiest phase's base and reserved load plus the limits set for the sessions
    (every connector here is 3-phase)."""
    fixed = max(b + r for b, r in zip(view.base_load_a, view.reserved_a, strict=True))
    return fixed + sum(c.limit_a for c in view.connectors if c.state in ("charging", "paused"))


def change(h: Harness, limit_a: float, power_w: float | None = None) -> list[SetLimit]:
    event = SiteLimitChanged(h.clock.now, limit_a, power_w, reason="operator override")
    return set_limits(h.send(event))


def test_a_lowering_goes_out_at_once_within_the_period() -> None:
    h = harness()
    h.advance(2)
    commands = change(h, 40)
    assert tx_limits(commands) == {"a/1": 15.0, "b/1": 15.0}
    view = h.controller.view()
    assert view.site_limit_a == 40
    assert view.configured_site_limit_a == 63
    assert view.site_limit_reason == "operator override"
    assert set_total_a(view) <= 40
    assert max(view.allowed_total_a) > 40, "the EVs may draw their old limits until they follow"
    h.advance(SETTINGS.reaction_s)
    assert max(h.controller.view(h.clock.now).allowed_total_a) <= 40


def test_a_lowering_refits_the_fallbacks_and_sends_the_changed_ones() -> None:
    h = harness()
    before = dict(h.controller.fallbacks.fallback_a)
    commands = change(h, 20)
    defaults = {
        f"{c.charger_id}/{c.connector_id}": c.limit_now_a
        for c in commands
        if c.purpose is ProfilePurpose.TX_DEFAULT
    }
    after = h.controller.fallbacks.fallback_a
    assert defaults == dict(after)
    assert all(after[k] < before[k] for k in before)
    assert sum(after.values()) <= 20 - 5
    assert all(line.endswith("fits") for line in h.controller.fallbacks.explanation[-3:])


def test_a_raise_waits_for_the_update_interval() -> None:
    h = harness()
    h.advance(2)
    change(h, 40)
    h.advance(10)
    raised = change(h, 63)
    assert tx_limits(raised) == {}
    assert {c.purpose for c in raised} <= {ProfilePurpose.TX_DEFAULT}
    assert h.controller.view().site_limit_reason is None
    h.meter((10, 10, 10))
    assert tx_limits(h.tick()) == {}
    for _ in range(4):
        h.advance(10)
        h.meter((10, 10, 10))
        h.tick()
    assert h.limit_of("a/1") == 15.0
    h.advance(10)  # 60 s after the lowering was sent
    h.meter((10, 10, 10))
    assert tx_limits(h.tick()) == {"a/1": 26.5, "b/1": 26.5}


def test_the_lowered_limit_holds_on_later_steps() -> None:
    h = harness()
    change(h, 30)
    for base in (10, 14, 8, 20, 12):
        h.advance(10)
        h.meter((base, base, base))
        h.tick()
        view = h.controller.view()
        assert view.site_limit_a == 30
        assert set_total_a(view) <= 30 + 1e-6
        after = h.controller.view(h.clock.now + timedelta(seconds=SETTINGS.reaction_s))
        assert max(after.allowed_total_a) <= 30 + 1e-6


def test_a_power_cap_change_lowers_at_once() -> None:
    h = harness(power_limit_w=63 * 3 * 230.0)
    commands = change(h, 63, power_w=40 * 3 * 230.0)
    assert tx_limits(commands) == {"a/1": 15.0, "b/1": 15.0}
    assert h.controller.view().site_power_limit_w == 40 * 3 * 230.0


def test_a_limit_above_the_configured_one_is_held_at_it() -> None:
    h = harness()
    assert change(h, 100) == []
    view = h.controller.view()
    assert view.site_limit_a == 63
    assert view.site_limit_reason is None


@pytest.mark.parametrize("bad", [math.nan, -1.0, math.inf])
def test_an_invalid_limit_is_refused_and_the_limit_in_force_kept(bad: float) -> None:
    h = harness()
    change(h, 40)
    assert change(h, bad) == []
    assert h.controller.view().site_limit_a == 40
