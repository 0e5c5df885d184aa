"""The grid operator's cap schedule while the site runs: joined with the operator's
override, read again when its file changes (a broken file keeps the schedule before), and
a cap that drops is on the charger before it starts."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.clock import utc_now
from adapters.files.app_config import load_app_config
from adapters.files.grid_caps import load_grid_caps
from adapters.ocpp.sim import SimulatedCharger, SimulatedEV
from adapters.runtime import SiteRuntime
from adapters.runtime.site_limit_feed import FOLLOW_S, SiteLimitFeed
from ems.events import Event, SiteLimitChanged
from ems.grid_cap import GridCap
from ems.site import ControlSettings
from ems.site_limit import OVERRIDE_REASON, cap_lead_s
from tests.adapters.runtime.test_status_view import connect, roomy_site
from tests.e2e.rig import wait_until
from tests.ems.fakes import connector, site

NOW = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
SETTINGS = ControlSettings(period_s=1.0, reaction_s=5.0)
HEADER = "timestamp,limit_a\n"


def cap_line(at: datetime, limit_a: float) -> str:
    return f"{at.isoformat()},{limit_a:g}\n"


def feed_on(path: Path, caps: tuple[GridCap, ...]) -> tuple[SiteLimitFeed, list[Event]]:
    put: list[Event] = []
    the_site = replace(site(connector("a"), limit_a=63), grid_caps=caps)
    return SiteLimitFeed(the_site, SETTINGS, put.append, path), put


def limits(events: list[Event]) -> list[float]:
    return [e.phase_limit_a for e in events if isinstance(e, SiteLimitChanged)]


def test_the_override_and_the_caps_go_out_as_their_lowest(tmp_path: Path) -> None:
    path = tmp_path / "caps.csv"
    path.write_text(HEADER + cap_line(NOW, 40))
    feed, put = feed_on(path, load_grid_caps(path, site(connector("a")).limits))
    feed.follow(NOW - timedelta(hours=1))
    feed.follow(NOW)
    feed.set_override(30.0, NOW)
    assert feed.set_override(50.0, NOW).phase_limit_a == 40.0
    assert limits(put) == [40.0, 30.0, 40.0]
    assert put[1] == SiteLimitChanged(NOW, 30.0, None, OVERRIDE_REASON)


def test_a_changed_file_is_read_again_and_a_broken_one_keeps_the_caps(tmp_path: Path) -> None:
    path = tmp_path / "caps.csv"
    path.write_text(HEADER + cap_line(NOW, 40))
    feed, put = feed_on(path, load_grid_caps(path, site(connector("a")).limits))
    path.write_text(HEADER + cap_line(NOW, 20))
    os.utime(path, ns=(1, 1))
    assert feed.reload()
    feed.follow(NOW)
    path.write_text(HEADER + "five pm,10\n")
    assert not feed.reload()
    feed.follow(NOW)
    assert limits(put) == [20.0]
    assert feed.error is not None
    assert feed.error.startswith(f"{path}:2: column timestamp:")
    path.unlink()
    assert not feed.reload()
    assert feed.caps == (GridCap(NOW, 20.0),)


def test_the_lead_covers_a_look_a_period_and_the_ev_following() -> None:
    assert cap_lead_s(SETTINGS, FOLLOW_S) == 7.0


async def test_a_dropping_cap_is_on_the_charger_before_it_starts(
    tmp_path: Path, chargers: list[SimulatedCharger]
) -> None:
    config_path = roomy_site(tmp_path)
    text = config_path.read_text().replace("[site]\n", '[site]\ngrid_caps_file = "caps.csv"\n')
    (tmp_path / "caps.csv").write_text(HEADER + cap_line(NOW - timedelta(days=1), 80))
    config_path.write_text(text)
    runtime = SiteRuntime(load_app_config(config_path))
    await runtime.start()
    try:
        cp2 = await connect(chargers, runtime, "CP2")
        await cp2.plug_in(1, SimulatedEV(max_current_a=12, charger_phases=(1,)))
        await wait_until(lambda: cp2.limit_a(1) == 32.0, 15, "CP2 at its 32 A maximum")
        # 50 A from 12 s on: L2 keeps 50 - 10 (worst base load) - 32 (CP1, never seen) = 8 A
        start = utc_now() + timedelta(seconds=12)
        (tmp_path / "caps.csv").write_text(HEADER + cap_line(start, 50))
        await wait_until(lambda: (cp2.limit_a(1) or 0.0) <= 8.0, 20, "CP2 lowered to 8 A")
        lowered_at = utc_now()
        site_now = runtime.status.snapshot().site
    finally:
        await runtime.stop()
    assert lowered_at < start
    assert site_now.limit_a == (50.0, 50.0, 50.0)
    assert site_now.limit_reason is not None
    assert "grid operator cap" in site_now.limit_reason
