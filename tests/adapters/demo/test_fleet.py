from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from adapters.demo.fleet import AcceleratedEV, Arrival, Departure, Fleet, FleetEvent, Slot

START = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)
SLOTS = [Slot(f"CP{i}", 1, 1 if i % 4 == 0 else 3) for i in range(10)]
DAY = timedelta(hours=24)


def run(fleet: Fleet, until: timedelta, step: timedelta) -> list[FleetEvent]:
    events: list[FleetEvent] = []
    at = START
    while at < START + until:
        at += step
        events += fleet.due(at)
    return events


def test_the_same_seed_gives_the_same_plan() -> None:
    first = run(Fleet(SLOTS, START, seed=7), DAY, timedelta(minutes=1))
    second = run(Fleet(SLOTS, START, seed=7), DAY, timedelta(minutes=1))
    assert first == second
    assert first != run(Fleet(SLOTS, START, seed=8), DAY, timedelta(minutes=1))


def test_the_plan_does_not_depend_on_how_often_it_is_asked() -> None:
    fine = run(Fleet(SLOTS, START, seed=3), DAY, timedelta(seconds=10))
    coarse = run(Fleet(SLOTS, START, seed=3), DAY, timedelta(hours=2))

    def per_slot(events: list[FleetEvent]) -> dict[Slot, list[FleetEvent]]:
        out: dict[Slot, list[FleetEvent]] = {}
        for event in events:
            out.setdefault(event.slot, []).append(event)
        return out

    assert per_slot(fine) == per_slot(coarse)


def test_most_connectors_get_an_ev_within_the_first_minutes() -> None:
    fleet = Fleet(SLOTS, START, seed=1)
    arrivals = [e for e in fleet.due(START + timedelta(minutes=5)) if isinstance(e, Arrival)]
    assert len(arrivals) >= len(SLOTS) // 2
    assert len({a.slot for a in arrivals}) == len(arrivals)


def test_evs_leave_at_their_departure_and_slots_alternate() -> None:
    events = run(Fleet(SLOTS, START, seed=2), DAY, timedelta(minutes=1))
    assert any(isinstance(e, Departure) for e in events)
    for slot in SLOTS:
        own = [e for e in events if e.slot == slot]
        assert own, f"{slot.key} never got an EV in a day"
        assert isinstance(own[0], Arrival)
        for before, after in itertools.pairwise(own):
            assert type(before) is not type(after), "an arrival at a taken connector"
            assert after.at >= before.at
            if isinstance(before, Arrival):
                assert after.at == before.departure


def test_events_come_in_time_order_and_never_twice() -> None:
    fleet = Fleet(SLOTS, START, seed=4)
    events = fleet.due(START + timedelta(hours=6))
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert fleet.due(START + timedelta(hours=6)) == []


def test_a_share_of_evs_charge_on_one_phase() -> None:
    slots = [Slot(f"CP{i}", 1) for i in range(40)]
    events = run(Fleet(slots, START, seed=5), 7 * DAY, timedelta(hours=1))
    arrivals = [e for e in events if isinstance(e, Arrival)]
    one_phase = [a for a in arrivals if a.ev.phases == 1]
    assert len(arrivals) > 500
    assert 0.18 < len(one_phase) / len(arrivals) < 0.32
    assert all(a.ev.vehicle().charger_phases == (1,) for a in one_phase)
    assert all(a.ev.vehicle().charger_phases == (1, 2, 3) for a in arrivals if a.ev.phases == 3)


def test_ev_tokens_are_unique() -> None:
    events = run(Fleet(SLOTS, START, seed=6), 2 * DAY, timedelta(hours=1))
    tags = [e.id_tag for e in events if isinstance(e, Arrival)]
    assert len(tags) == len(set(tags))
    assert all(len(tag) <= 20 for tag in tags)


def test_an_accelerated_battery_fills_speed_times_faster() -> None:
    ev = AcceleratedEV(capacity_wh=50_000.0, soc_pct=20.0, speed=30.0)
    ev.charge(500.0)
    assert ev.soc_pct == pytest.approx(20.0 + 30 * 1.0)
