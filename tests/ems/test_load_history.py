"""The site's load history: time-weighted quarter hours, and the persistence forecast of
the same time a week, else a day, before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ems.load_history import DAY_SLOTS, KEPT_SLOTS, SLOT_S, WEEK_SLOTS, LoadHistory
from optimizer.problem import PowerPeriod

MONDAY = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
"""A slot's start (08:00 UTC)."""
SLOT = int(MONDAY.timestamp()) // SLOT_S
QUARTER = timedelta(seconds=SLOT_S)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def steady(history: LoadHistory, start: datetime, slots: int, power_w: float) -> None:
    """Readings of `power_w` every minute over `slots` slots from `start` (the last one
    at the end of the last slot, which it closes)."""
    for minute in range(slots * 15 + 1):
        history.observe(start + timedelta(minutes=minute), power_w)


def test_a_slot_is_the_time_weighted_mean_of_its_readings() -> None:
    history = LoadHistory()
    history.observe(MONDAY, 1_000.0)  # held for 10 minutes
    history.observe(MONDAY + timedelta(minutes=10), 4_000.0)  # held for 5 minutes
    history.observe(MONDAY + timedelta(minutes=14), 4_000.0)
    assert not history.slots  # the slot is not over yet

    history.observe(MONDAY + QUARTER + timedelta(minutes=1), 0.0)

    assert history.slots == ((SLOT, 2_000.0),)


def test_a_reading_holds_across_slots_but_not_across_a_longer_gap() -> None:
    history = LoadHistory()
    history.observe(MONDAY + timedelta(minutes=10), 3_000.0)
    history.observe(MONDAY + timedelta(minutes=20), 1_000.0)  # 3 kW to 08:15, and on
    history.observe(MONDAY + timedelta(minutes=25), 1_000.0)
    history.observe(MONDAY + timedelta(hours=2), 5_000.0)  # a gap: nothing for it

    assert history.slots == ((SLOT, 3_000.0), (SLOT + 1, 2_000.0))


def test_non_finite_readings_and_readings_not_after_the_last_are_ignored() -> None:
    history = LoadHistory()
    history.observe(MONDAY, 1_000.0)
    history.observe(MONDAY + timedelta(minutes=5), float("nan"))
    history.observe(MONDAY + timedelta(minutes=6), float("inf"))
    history.observe(MONDAY, 9_000.0)
    history.observe(MONDAY - timedelta(minutes=1), 9_000.0)
    history.observe(MONDAY + QUARTER, 0.0)

    assert history.slots == ((SLOT, 1_000.0),)


def test_the_forecast_is_a_week_before_else_a_day_before() -> None:
    history = LoadHistory()
    history.recall([(SLOT - WEEK_SLOTS, 7_000.0), (SLOT - DAY_SLOTS, 1_000.0)])
    history.recall([(SLOT + 1 - DAY_SLOTS, 2_000.0), (SLOT + 3 - WEEK_SLOTS, 4_000.0)])

    forecast = history.forecast(MONDAY + timedelta(minutes=7), MONDAY + timedelta(hours=2))

    assert forecast == (
        PowerPeriod(MONDAY, 7_000.0),  # now's slot, from its start: a week before wins
        PowerPeriod(MONDAY + QUARTER, 2_000.0),  # only the day before is known
        PowerPeriod(MONDAY + 3 * QUARTER, 4_000.0),  # the one between: neither
    )


def test_the_forecast_ends_at_until() -> None:
    history = LoadHistory()
    history.recall([(SLOT - DAY_SLOTS + k, 1_000.0 * k) for k in range(8)])

    forecast = history.forecast(MONDAY, MONDAY + QUARTER + timedelta(seconds=1))

    assert [p.start for p in forecast] == [MONDAY, MONDAY + QUARTER]


def test_nothing_known_gives_no_forecast() -> None:
    history = LoadHistory()
    assert history.forecast(MONDAY, MONDAY + DAY) == ()
    history.recall([(SLOT - 3 * DAY_SLOTS, 1_000.0)])  # neither a day nor a week before
    assert history.forecast(MONDAY, MONDAY + DAY) == ()


def test_what_was_observed_is_forecast_a_day_later() -> None:
    history = LoadHistory()
    steady(history, MONDAY - DAY, 2, 3_000.0)

    assert history.forecast(MONDAY, MONDAY + timedelta(hours=1)) == (
        PowerPeriod(MONDAY, 3_000.0),
        PowerPeriod(MONDAY + QUARTER, 3_000.0),
    )


def test_slots_older_than_eight_days_are_dropped() -> None:
    history = LoadHistory()
    steady(history, MONDAY - WEEK - 2 * DAY, 1, 5_000.0)
    steady(history, MONDAY - DAY, 1, 1_000.0)
    assert [slot for slot, _ in history.slots] == [SLOT - DAY_SLOTS]

    newest = SLOT - DAY_SLOTS
    history.recall([(newest - KEPT_SLOTS, 9_000.0), (newest - KEPT_SLOTS + 1, 2_000.0)])

    assert [slot for slot, _ in history.slots] == [newest - KEPT_SLOTS + 1, newest]


def test_slots_closing_one_by_one_keep_exactly_the_last_eight_days() -> None:
    history = LoadHistory()
    for k in range(KEPT_SLOTS + 30):  # a reading per slot, each closing the one before
        history.observe(MONDAY + k * QUARTER, float(k))
        newest = SLOT + k - 1
        expected = [
            (s, float(s - SLOT)) for s in range(max(SLOT, newest - KEPT_SLOTS + 1), SLOT + k)
        ]
        assert list(history.slots) == expected

    history.recall([(SLOT + 10, 1.0), (SLOT + KEPT_SLOTS + 40, 2.0)])  # one too old, one new

    kept = [slot for slot, _ in history.slots]
    assert kept == [*range(SLOT + 41, SLOT + KEPT_SLOTS + 29), SLOT + KEPT_SLOTS + 40]


def test_a_recalled_slot_does_not_replace_one_observed_since() -> None:
    history = LoadHistory()
    steady(history, MONDAY, 1, 1_000.0)

    history.recall([(SLOT, 5_000.0), (SLOT - 1, 3_000.0), (SLOT - 2, float("nan"))])

    assert history.slots == ((SLOT - 1, 3_000.0), (SLOT, 1_000.0))


def test_the_snapshot_is_the_same_tuple_until_a_slot_closes() -> None:
    history = LoadHistory()
    steady(history, MONDAY, 1, 1_000.0)
    before = history.slots

    history.observe(MONDAY + QUARTER + timedelta(minutes=5), 2_000.0)

    assert history.slots is before
