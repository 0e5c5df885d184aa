"""OCPP time values: UTC on the wire with a `Z`, tolerant when reading."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.clock import utc_now

__all__ = ["from_wire", "to_wire", "utc_now"]

EARLIEST_PLAUSIBLE = datetime(2015, 1, 1, tzinfo=UTC)
"""Chargers whose clock is not set yet send 1970 timestamps; anything before this is
replaced by the time we received it."""


def to_wire(at: datetime) -> str:
    """`2024-05-01T12:00:00.123Z` (never a naive `isoformat()`)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def from_wire(text: object, received_at: datetime) -> datetime:
    """A charger's timestamp, or `received_at` when it is missing, unreadable or before
    the charger's clock was set. A timestamp without offset is taken as UTC."""
    if not isinstance(text, str):
        return received_at
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return received_at
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return received_at if at < EARLIEST_PLAUSIBLE else at
