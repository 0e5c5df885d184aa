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

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"
