"""The outbound requests every protocol version can build (`v16.requests`, `v201.requests`).

Connector ids are EVSE ids for 2.0.1, as everywhere in `ems`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from adapters.ocpp.results import Request

ALLOWED_WHILE_PENDING: dict[str, frozenset[str]] = {
    # OCPP 1.6 §4.2: while Pending, the central system may retrieve information from the
    # charge point or change its configuration (and trigger the next boot).
    "1.6": frozenset({"GetConfiguration", "ChangeConfiguration", "TriggerMessage"}),
    # OCPP 2.0.1 B02: while Pending, configuration and reports (and triggering the boot).
    "2.0.1": frozenset(
        {"GetVariables", "SetVariables", "GetBaseReport", "GetReport", "TriggerMessage"}
    ),
}
"""Per protocol version, the requests a charger whose boot was answered Pending may get;
every other request waits until its boot is accepted."""


class RequestBuilder(Protocol):
    ACTIONS: frozenset[str]
    """Every action the central system may send in this version."""

    def remote_start(
        self, id_token: str, connector_id: int | None, remote_start_id: int
    ) -> Request: ...
    def remote_stop(self, transaction_id: str) -> Request: ...
    def reset(self, hard: bool) -> Request: ...
    def change_availability(self, connector_id: int, operative: bool) -> Request: ...
    def trigger_message(self, message: str, connector_id: int | None) -> Request: ...
    def unlock_connector(self, connector_id: int) -> Request: ...
    def get_composite_schedule(
        self, connector_id: int, duration_s: int, rate_unit: str | None
    ) -> Request: ...
    def probe_capabilities(self) -> Request: ...
    def read_capabilities(self, payload: dict[str, object]) -> dict[str, object]:
        """The capability record (`max_stack_level`, `rate_units`, `max_periods`,
        `smart_charging`, `raw`) from the answer to `probe_capabilities()`."""
        ...


def split_list(value: object) -> Sequence[str]:
    """A comma-separated configuration value as its members."""
    if not isinstance(value, str):
        return ()
    return [part.strip() for part in value.split(",") if part.strip()]


def to_int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None
