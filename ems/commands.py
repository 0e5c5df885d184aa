"""Commands the controller core emits. The OCPP adapter renders and sends them.

Limits are always in amperes per phase here; the adapter renders W (total power over
`number_phases` at `voltage_v`) for chargers that accept only W, and rounds down to 0.1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property


class ProfilePurpose(StrEnum):
    STATION_MAX = "station_max"
    """Caps the whole charger (1.6 ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile)."""
    TX_DEFAULT = "tx_default"
    """Per-connector default between and during sessions: the fallback."""
    TX = "tx"
    """Bound to the running transaction; time-bounded so it lapses if we stop."""


@dataclass(frozen=True)
class LimitPeriod:
    """From `start_s` seconds after the schedule start, at most `limit_a` per phase."""

    start_s: float
    limit_a: float
    number_phases: int | None = None


@dataclass(frozen=True)
class SetLimit:
    """Install a charging profile. `connector_id` 0 addresses the whole charger."""

    charger_id: str
    connector_id: int
    purpose: ProfilePurpose
    periods: tuple[LimitPeriod, ...]
    start: datetime
    reason: str
    duration_s: float | None = None
    """None for an open-ended profile (fallbacks); tight profiles are bounded in time."""
    transaction_id: str | None = None
    stack_level: int | None = None
    """None lets the adapter choose from the charger's capabilities."""
    voltage_v: float = 230.0
    attempt: int = 0
    """0 for the first try; 1 asks the adapter for another rendering (W instead of A, or
    another stack level) after the charger rejected the first."""

    @property
    def limit_now_a(self) -> float:
        return self.periods[0].limit_a if self.periods else 0.0

    @cached_property
    def end(self) -> datetime | None:
        """When the profile stops applying; None for an open-ended one. Worked out once:
        the proven bounds ask it of every profile in force several times a step, and the
        command never changes (frozen)."""
        if self.duration_s is None:
            return None
        return self.start + timedelta(seconds=self.duration_s)


@dataclass(frozen=True)
class ClearLimit:
    charger_id: str
    connector_id: int
    purpose: ProfilePurpose
    reason: str


Command = SetLimit | ClearLimit
