from __future__ import annotations

from ems.replay.baselines import EqualShare, FirstComeFirstServed, Uncontrolled
from ems.replay.engine import ev_phases
from ems.replay.view import PluggedEv, StepView
from ems.site import SiteConfig
from optimizer.problem import PhaseTriple

from .conftest import START, roomy_site, session


def _view(site: SiteConfig, base: PhaseTriple, *plugs: tuple[str, str, int, bool]) -> StepView:
    connectors = {c.key: c for c in site.connectors()}
    plugged = []
    for i, (session_id, key, phases, suspended) in enumerate(plugs):
        spec = session(session_id, key, 0.1 * i, 4.0, 20.0, phases=phases)
        connector = connectors[key]
        plugged.append(
            PluggedEv(spec, connector, ev_phases(connector, spec), 16.0, 0.0, 0.0, suspended)
        )
    return StepView(0, START, 300.0, base, site.limits.phase_limit_a, None, tuple(plugged))


def test_uncontrolled_gives_every_connector_its_maximum() -> None:
    site = roomy_site(limit_a=20.0)
    view = _view(site, (0, 0, 0), ("s1", "a/1", 3, False), ("s2", "b/1", 1, False))
    assert Uncontrolled().decide(view) == {"a/1": 16.0, "b/1": 16.0}


def test_equal_shares_the_bottleneck_phase() -> None:
    site = roomy_site(limit_a=30.0)
    view = _view(
        site,
        (4.0, 10.0, 4.0),
        ("s1", "a/1", 3, False),
        ("s2", "a/2", 3, False),
        ("s3", "b/1", 1, False),
    )
    # L2 has 20 A for three EVs; L1 and L3 have 26 A for two.
    limits = EqualShare(site).decide(view)
    assert limits["a/1"] == limits["a/2"] == limits["b/1"]
    assert limits["a/1"] == 20.0 / 3


def test_equal_pauses_the_latest_arrival_when_the_share_is_below_minimum() -> None:
    site = roomy_site(limit_a=14.0)
    view = _view(
        site, (0, 0, 0), ("s1", "a/1", 3, False), ("s2", "a/2", 3, False), ("s3", "b/1", 1, False)
    )
    limits = EqualShare(site).decide(view)
    assert limits == {"a/1": 7.0, "a/2": 7.0, "b/1": 0.0}


def test_equal_and_fcfs_skip_suspended_evs() -> None:
    site = roomy_site(limit_a=20.0)
    view = _view(site, (0, 0, 0), ("s1", "a/1", 3, True), ("s2", "a/2", 3, False))
    assert EqualShare(site).decide(view) == {"a/1": 0.0, "a/2": 16.0}
    assert FirstComeFirstServed(site).decide(view) == {"a/1": 0.0, "a/2": 16.0}


def test_fcfs_serves_in_order_of_arrival_what_is_left() -> None:
    site = roomy_site(limit_a=40.0)
    view = _view(
        site,
        (4.0, 4.0, 4.0),
        ("s1", "a/1", 3, False),
        ("s2", "a/2", 3, False),
        ("s3", "b/1", 1, False),
    )
    # L2 keeps 40 - 4 - 32 = 4 A, below the 1-phase EV's 6 A minimum.
    assert FirstComeFirstServed(site).decide(view) == {"a/1": 16.0, "a/2": 16.0, "b/1": 0.0}


def test_fcfs_gives_a_late_ev_the_remainder_above_its_minimum() -> None:
    site = roomy_site(limit_a=30.0)
    view = _view(site, (0, 0, 0), ("s1", "a/1", 3, False), ("s2", "a/2", 3, False))
    assert FirstComeFirstServed(site).decide(view) == {"a/1": 16.0, "a/2": 14.0}
