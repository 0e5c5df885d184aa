"""Why a meter reading is not valid, as a kind (for hints and tests) and a detail."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FailureKind(StrEnum):
    CONNECT = "cannot connect"
    TIMEOUT = "timeout"
    DISCONNECTED = "disconnected"
    PROTOCOL = "bad answer"
    MODBUS_EXCEPTION = "modbus exception"
    NO_SUNSPEC = "no sunspec meter"
    NOT_AVAILABLE = "not available"
    ALL_ZERO = "all zero"
    OUT_OF_RANGE = "out of range"
    FROZEN = "frozen"
    WAITING = "waiting to reconnect"


@dataclass(frozen=True)
class ReadFailure:
    kind: FailureKind
    detail: str
    exception_code: int | None = None
    """The Modbus exception code the meter answered with (MODBUS_EXCEPTION)."""
    waiting_out: FailureKind | None = None
    """WAITING: the kind of the connection failure the reader is backing off from."""

    @property
    def cause(self) -> FailureKind:
        """The kind of failure this read is part of: a wait to reconnect belongs to the
        failure it waits out (an outage is one cause, however its reads alternate)."""
        return self.waiting_out or self.kind

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"
