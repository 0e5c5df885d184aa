"""Faults the meter simulator can inject, each over a window of simulated time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    SILENCE = "silence"
    """No answer at all (a meter that died behind a gateway, a wrong unit id)."""
    SLOW = "slow"
    """Answers arrive, but only after the reader's timeout (late transaction ids)."""
    EXCEPTION = "exception"
    """Every request is answered with Modbus exception 04 (server device failure)."""
    FROZEN = "frozen"
    """The last values are served unchanged (a gateway caching a dead meter)."""
    NAN = "nan"
    """Measurements read "not available": NaN, or the map's sentinel for integers."""
    DROP = "drop"
    """The connection is closed on every request."""


_ALIASES = {"stale": FaultKind.FROZEN}
_PATTERN = re.compile(r"^\s*([a-z]+)\s*@\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class FaultWindow:
    kind: FaultKind
    start_s: float
    end_s: float
    """Seconds of simulated (profile) time; the fault holds for start ≤ t < end."""

    def active(self, sim_time_s: float) -> bool:
        return self.start_s <= sim_time_s < self.end_s


def parse_fault(text: str) -> FaultWindow:
    """`KIND@START-END`, e.g. `silence@30-60` or `stale@30-60` (stale = frozen).
    Raises ValueError with a message fit for a person."""
    match = _PATTERN.match(text.lower())
    kinds = ", ".join([*(k.value for k in FaultKind), *_ALIASES])
    if not match:
        raise ValueError(f"{text!r}: expected KIND@START-END in seconds, KIND one of {kinds}")
    name, start, end = match.groups()
    kind = _ALIASES.get(name) or next((k for k in FaultKind if k.value == name), None)
    if kind is None:
        raise ValueError(f"{text!r}: unknown fault {name!r}; one of {kinds}")
    if float(end) <= float(start):
        raise ValueError(f"{text!r}: the window must end after it starts")
    return FaultWindow(kind, float(start), float(end))
