"""A batch of events goes to the controller cut before its first tick, so what the events
before it send does not wait for the control step."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.runtime.site_runtime import before_the_tick
from ems.events import ChargerConnected, Event, SessionStarted, Tick

AT = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
BOOTED = ChargerConnected("CP01", AT, "ocpp1.6")
STARTED = SessionStarted("CP02", 1, "T1", AT)
TICK = Tick(AT)


def test_events_before_a_tick_go_first_and_the_order_is_kept() -> None:
    batch: list[Event] = [BOOTED, STARTED, TICK, BOOTED]
    assert before_the_tick(batch) == [[BOOTED, STARTED], [TICK, BOOTED]]


def test_a_batch_opening_with_a_tick_or_without_one_stays_whole() -> None:
    assert before_the_tick([TICK, BOOTED]) == [[TICK, BOOTED]]
    assert before_the_tick([BOOTED, STARTED]) == [[BOOTED, STARTED]]
