from __future__ import annotations

from datetime import timedelta

from ems.commands import ClearLimit, LimitPeriod, ProfilePurpose, SetLimit
from ems.replay.profiles import ProfileBook, limit_at

from .conftest import START


def _set(
    purpose: ProfilePurpose,
    limit_a: float,
    connector_id: int = 1,
    duration_s: float | None = None,
    transaction_id: str | None = None,
    periods: tuple[LimitPeriod, ...] | None = None,
) -> SetLimit:
    return SetLimit(
        "a",
        connector_id,
        purpose,
        periods or (LimitPeriod(0.0, limit_a),),
        START,
        "test",
        duration_s=duration_s,
        transaction_id=transaction_id,
    )


def test_limit_follows_the_schedule_periods_and_lapses() -> None:
    command = _set(
        ProfilePurpose.TX, 0, duration_s=600, periods=(LimitPeriod(0, 10.0), LimitPeriod(300, 8.0))
    )
    assert limit_at(command, START - timedelta(seconds=1)) is None
    assert limit_at(command, START) == 10.0
    assert limit_at(command, START + timedelta(seconds=300)) == 8.0
    assert limit_at(command, START + timedelta(seconds=600)) is None


def test_tx_profile_lapses_to_the_default_then_to_nothing() -> None:
    book = ProfileBook()
    book.apply(_set(ProfilePurpose.TX_DEFAULT, 6.0, connector_id=0))
    book.apply(_set(ProfilePurpose.TX, 12.0, duration_s=600, transaction_id="t1"))
    assert book.connector_limit_a("a", 1, "t1", START) == 12.0
    assert book.connector_limit_a("a", 1, "other", START) == 6.0
    assert book.connector_limit_a("a", 1, "t1", START + timedelta(seconds=600)) == 6.0
    book.apply(ClearLimit("a", 0, ProfilePurpose.TX_DEFAULT, "test"))
    assert book.connector_limit_a("a", 1, "t1", START + timedelta(seconds=600)) is None


def test_transaction_end_removes_its_profile() -> None:
    book = ProfileBook()
    book.apply(_set(ProfilePurpose.TX, 12.0, duration_s=600, transaction_id="t1"))
    book.end_transaction("a", 1)
    assert book.connector_limit_a("a", 1, "t1", START) is None


def test_station_maximum_is_kept_per_charger() -> None:
    book = ProfileBook()
    book.apply(_set(ProfilePurpose.STATION_MAX, 20.0, connector_id=0))
    assert book.station_limit_a("a", START) == 20.0
    assert book.station_limit_a("b", START) is None
