"""OCPP time values: UTC on the wire with a `Z`, tolerant when reading.

A timestamp that is not a date and time at all ("yesterday") never gets here: the schema
check (`frames.schema_violation`) refuses it with a TypeConstraintViolation, using
`parse_wire` as its test of the `date-time` format.
"""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.clock import utc_now

__all__ = ["from_wire", "parse_wire", "to_wire", "utc_now"]

EARLIEST_PLAUSIBLE = datetime(2015, 1, 1, tzinfo=UTC)
"""Chargers whose clock is not set yet send 1970 timestamps; anything before this is
replaced by the time we received it."""


def to_wire(at: datetime) -> str:
    """`2024-05-01T12:00:00.123Z` (never a naive `isoformat()`)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_wire(text: str) -> datetime | None:
    """An ISO 8601 date and time as aware UTC, or None when `text` is not one.

    Tolerant: a timestamp without an offset is taken as UTC (RFC 3339 wants one, some
    chargers leave it out)."""
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def from_wire(text: object, received_at: datetime) -> datetime:
    """A charger's timestamp, or `received_at` when it is missing or before the charger's
    clock was set."""
    at = parse_wire(text) if isinstance(text, str) else None
    if at is None:
        return received_at
    return received_at if at < EARLIEST_PLAUSIBLE else at
