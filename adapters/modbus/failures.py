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


SILENT_KINDS = frozenset(
    {FailureKind.CONNECT, FailureKind.TIMEOUT, FailureKind.DISCONNECTED, FailureKind.WAITING}
)
GATEWAY_NO_ANSWER_CODES = frozenset({0x0A, 0x0B})
"""Modbus exceptions a gateway answers for its meter: path unavailable, target device
failed to respond."""


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

    @property
    def silent(self) -> bool:
        """No answer came from the meter (no connection, a timeout, a gateway whose meter
        did not respond): the read tells nothing about the site, unlike an answer that is
        wrong."""
        if self.kind is FailureKind.MODBUS_EXCEPTION:
            return self.exception_code in GATEWAY_NO_ANSWER_CODES
        return self.cause in SILENT_KINDS

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"
