"""The two ports the runtime implements for the status server: read the state, act on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from adapters.http.snapshot import StatusSnapshot


class StatusSource(Protocol):
    """Gives the current picture of the site. Called on the event loop for every request
    and scrape, so it must be cheap: assemble data already in memory, do no I/O."""

    def snapshot(self) -> StatusSnapshot: ...


@dataclass(frozen=True)
class RemoteStopResult:
    """The charger's answer to a remote stop. `status` is its status string, or
    `Timeout` / `Offline` / `CallError:<code>` when no answer came."""

    accepted: bool
    status: str
    detail: str | None = None


class OperatorActions(Protocol):
    """What an operator may change through the API (token required)."""

    def override_limit(self, limit_a: float | None) -> None:
        """Cap the site at `limit_a` per phase until cleared with None.

        Raises ValueError with a message for the operator if the value is refused.
        """
        ...

    def choose_mode(self, charger_id: str, connector_id: int, mode: str | None) -> None:
        """Charge the session running on the connector in `mode` (`fast`, `planned`,
        `solar`, `min+solar`) until it ends; None gives it its charger's configured mode.

        Raises ValueError with a message for the operator if the mode is refused.
        """
        ...

    def trust_again(self, charger_id: str, connector_id: int) -> None:
        """Forget that the connector's charger was caught drawing more than allowed: its
        sessions are no longer on probation."""
        ...

    async def remote_stop(self, charger_id: str, transaction_id: str) -> RemoteStopResult:
        """Ask `charger_id` to stop its transaction `transaction_id` (2.0.1 transaction ids
        are per station: the id alone may name sessions on two chargers)."""
        ...
