"""Wall-clock time for the edges, and UTC times as text.

Only adapters read the clock; they pass the time into the core. `Clock` is injected
wherever a test needs to set time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns an aware UTC datetime."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(at: datetime) -> str:
    """`2024-05-01T12:00:00Z`. A naive datetime is a bug upstream, not a local time."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: times must be aware UTC")
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
