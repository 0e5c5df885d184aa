"""The site's load history survives a restart in the store; an unreadable one is logged and
left out. The site has no meter: its virtual one reads the worst base load, 10 A on each
phase (6.9 kW), every second, and no charger draws."""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.clock import utc_now
from adapters.files.app_config import load_app_config
from adapters.runtime import SiteRuntime
from adapters.runtime.load_memory import LOAD_SETTING, remembered_load
from adapters.storage.sqlite import SqliteStore
from ems.load_history import SLOT_S
from tests.adapters.runtime.site import stored_setting, write_site
from tests.e2e.rig import wait_until

BASE_LOAD_W = 3 * 10 * 230.0
LEAD_S = 2.0
"""The runtime's clock starts this long before a quarter hour ends, so that one closes
within seconds."""


def to_a_quarter_hours_end() -> timedelta:
    """How far to set the clock forward for it to read `LEAD_S` before a quarter hour
    ends."""
    now_s = time.time()
    return timedelta(seconds=math.ceil(now_s / SLOT_S) * SLOT_S - LEAD_S - now_s)


async def test_a_restart_keeps_the_load_history(tmp_path: Path) -> None:
    config = load_app_config(write_site(tmp_path))
    shift = to_a_quarter_hours_end()

    def clock() -> datetime:
        return utc_now() + shift

    first = SiteRuntime(config, clock=clock)
    await first.start()
    try:
        await wait_until(lambda: first.view().load_slots != (), 15, "a quarter hour closed")
        learned = first.view().load_slots
    finally:
        await first.stop()
    remembered = stored_setting(config.store.path, LOAD_SETTING)
    assert len(learned) == 1
    assert learned[0][1] == pytest.approx(BASE_LOAD_W, rel=0.01)
    assert remembered == {"slot_s": SLOT_S, "slots": [list(learned[0])]}

    second = SiteRuntime(config, clock=clock)
    await second.start()
    try:
        view = second.view()  # the remembered events handled, before any slot closed
    finally:
        await second.stop()

    assert view.load_slots == learned


@pytest.mark.parametrize(
    "text",
    [
        '{"slot_s": 900, "slots": [["08:00", 6900.0]]}',
        '{"slot_s": 60, "slots": [[1, 6900.0]]}',
        '{"slot_s": 900, "slots": [[1, NaN]]}',
        '{"slot_s": 900, "slots": 5}',
    ],
)
def test_an_unreadable_load_history_is_logged_and_left_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    path = tmp_path / "store.sqlite"
    now = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    store = SqliteStore(path)
    try:
        store.put_setting(LOAD_SETTING, {}, now)
        with sqlite3.connect(path) as db:
            db.execute("UPDATE settings SET value = ? WHERE name = ?", (text, LOAD_SETTING))
        with caplog.at_level(logging.ERROR):
            events = remembered_load(store, now)
    finally:
        store.close()

    assert events == []
    assert f"setting {LOAD_SETTING} is not a load history" in caplog.text
