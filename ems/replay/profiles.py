"""What the simulated chargers do with the controller's commands: which limit each
connector enforces at a given moment.

Kept simple but faithful to the semantics the controller relies on: a transaction profile
applies only to its transaction and lapses after its duration; the connector then falls
back to its default profile (its own, or the charger-wide one on connector 0), or to no
limit at all; a station-wide maximum caps the sum of the charger's connectors.
"""

from __future__ import annotations

from datetime import datetime

from ems.commands import ClearLimit, Command, ProfilePurpose, SetLimit


def limit_at(command: SetLimit, now: datetime) -> float | None:
    """The limit a profile sets at `now`, or None when it is not (or no longer) in force."""
    elapsed_s = (now - command.start).total_seconds()
    if elapsed_s < 0 or (command.duration_s is not None and elapsed_s >= command.duration_s):
        return None
    current: float | None = None
    for period in command.periods:
        if period.start_s <= elapsed_s:
            current = period.limit_a
    return current


class ProfileBook:
    """The profiles installed on every simulated charger."""

    def __init__(self) -> None:
        self._profiles: dict[tuple[str, int, ProfilePurpose], SetLimit] = {}

    def apply(self, command: Command) -> None:
        key = (command.charger_id, command.connector_id, command.purpose)
        if isinstance(command, ClearLimit):
            self._profiles.pop(key, None)
        else:
            self._profiles[key] = command

    def end_transaction(self, charger_id: str, connector_id: int) -> None:
        """A transaction profile ends with its transaction."""
        self._profiles.pop((charger_id, connector_id, ProfilePurpose.TX), None)

    def connector_limit_a(
        self, charger_id: str, connector_id: int, transaction_id: str | None, now: datetime
    ) -> float | None:
        """The limit the connector enforces now from its own profiles; None for none."""
        tx = self._profiles.get((charger_id, connector_id, ProfilePurpose.TX))
        if (
            tx is not None
            and transaction_id is not None
            and tx.transaction_id in (None, transaction_id)
        ):
            limit = limit_at(tx, now)
            if limit is not None:
                return limit
        for scope in (connector_id, 0):
            default = self._profiles.get((charger_id, scope, ProfilePurpose.TX_DEFAULT))
            if default is not None:
                limit = limit_at(default, now)
                if limit is not None:
                    return limit
        return None

    def station_limit_a(self, charger_id: str, now: datetime) -> float | None:
        station = self._profiles.get((charger_id, 0, ProfilePurpose.STATION_MAX))
        return None if station is None else limit_at(station, now)
