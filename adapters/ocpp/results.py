"""What an outbound OCPP call came back with: always a value, never a silent None."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class CallStatus:
    """`CallResult.status` values that are not the charger's own status string."""

    ANSWERED = "Answered"
    """A CALLRESULT without a `status` field (e.g. GetConfiguration)."""
    TIMEOUT = "Timeout"
    OFFLINE = "Offline"
    INVALID_REQUEST = "InvalidRequest"
    """We refused to send: the request violates the schema."""
    CALL_ERROR_PREFIX = "CallError:"


@dataclass(frozen=True)
class Request:
    """An outbound OCPP call: action name and camelCase payload as on the wire."""

    action: str
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CallResult:
    """The outcome of one outbound call.

    `ok` is True when the charger answered with a CALLRESULT; `status` is then its
    `status` field (or `Answered`). Otherwise `status` is `Timeout`, `Offline`,
    `InvalidRequest` or `CallError:<code>`, and `error_code`/`error_description` say more.
    """

    ok: bool
    status: str
    payload: dict[str, Any] = field(default_factory=dict)
    error_code: str | None = None
    error_description: str | None = None

    @property
    def accepted(self) -> bool:
        return self.ok and self.status == "Accepted"
