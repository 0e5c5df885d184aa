"""Events the controller core receives. Adapters translate the world into these.

No OCPP, Modbus or socket type appears here. Every event carries `at`, an aware UTC
datetime stamped by the adapter that saw it happen. Per-phase charger quantities are in
the *charger's* phase order (its L1, L2, L3); the core maps them to site phases using the
connector's configured rotation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ems.commands import SetLimit
from ems.site import ChargingMode
from optimizer.problem import PricePeriod

PhaseValues = tuple[float | None, float | None, float | None]


class ConnectorStatus(StrEnum):
    """Connector status, the union of OCPP 1.6 and 2.0.1 values."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"


@dataclass(frozen=True)
class MeterReading:
    """One reading of a site or circuit meter, valid or not.

    Never 0 A for a read that failed: an invalid reading has `valid=False`, a `reason`,
    and whatever values could be read (possibly None). Import is positive.
    """

    meter_id: str
    at: datetime
    valid: bool
    current_a: PhaseValues = (None, None, None)
    voltage_v: PhaseValues = (None, None, None)
    power_w: PhaseValues = (None, None, None)
    total_power_w: float | None = None
    energy_import_wh: float | None = None
    frequency_hz: float | None = None
    reason: str | None = None
    circuit: str | None = None
    """The circuit a circuit meter measures; None for a site meter."""
    silent: bool = False
    """An invalid reading for which no answer came (no connection, a timeout): it says
    nothing about the site, so it counts as silence, judged by the last good reading's
    age (`meter_stale_s`), not as a wrong answer."""


@dataclass(frozen=True)
class ChargerConnected:
    charger_id: str
    at: datetime
    protocol: str
    """`"ocpp1.6"` or `"ocpp2.0.1"`."""
    vendor: str | None = None
    model: str | None = None


@dataclass(frozen=True)
class ChargerAdmitted:
    """A charger the central system lets in (or keeps Pending) that may not be in the
    site's configuration: the controller must count what it may draw all the same."""

    charger_id: str
    at: datetime


@dataclass(frozen=True)
class ChargerDisconnected:
    charger_id: str
    at: datetime


@dataclass(frozen=True)
class ChargerCapabilities:
    """What the charger said it supports for smart charging (probed after boot)."""

    charger_id: str
    at: datetime
    max_stack_level: int | None = None
    rate_units: tuple[str, ...] = ("A", "W")
    max_periods: int | None = None
    smart_charging: bool = True


@dataclass(frozen=True)
class StatusChanged:
    charger_id: str
    connector_id: int
    status: ConnectorStatus
    at: datetime
    error_code: str | None = None


@dataclass(frozen=True)
class SessionStarted:
    charger_id: str
    connector_id: int
    transaction_id: str
    at: datetime
    id_token: str | None = None
    meter_start_wh: float | None = None


@dataclass(frozen=True)
class SessionEnded:
    charger_id: str
    connector_id: int
    transaction_id: str
    at: datetime
    meter_stop_wh: float | None = None
    reason: str | None = None


@dataclass(frozen=True)
class MeterSample:
    """What a charger measured on one connector at one moment."""

    charger_id: str
    connector_id: int
    at: datetime
    transaction_id: str | None = None
    current_a: PhaseValues = (None, None, None)
    power_w: float | None = None
    energy_wh: float | None = None
    voltage_v: PhaseValues = (None, None, None)
    soc_pct: float | None = None


@dataclass(frozen=True)
class EnergyNeed:
    """The EV's charging needs (2.0.1 NotifyEVChargingNeeds, or an operator/app input)."""

    charger_id: str
    connector_id: int
    at: datetime
    energy_wh: float | None = None
    departure: datetime | None = None
    max_current_a: float | None = None
    min_current_a: float | None = None


@dataclass(frozen=True)
class ProfileAnswer:
    """The charger's answer to a SetLimit we sent (or the failure to get one)."""

    command: SetLimit
    at: datetime
    accepted: bool
    status: str
    """The charger's status string, or `Timeout` / `CallError:<code>` / `Offline`."""
    detail: str | None = None


@dataclass(frozen=True)
class ProfileRecalled:
    """A profile sent before a restart, as the store remembers it.

    A restarted controller hears these before anything live, oldest first, so that a
    charger that has not reconnected yet is counted at what it may still be enforcing.
    """

    command: SetLimit
    sent_at: datetime
    status: str | None
    """The charger's answer then; None when none was recorded (counted as unanswered)."""
    at: datetime
    """When the answer came; `sent_at` when none did."""


@dataclass(frozen=True)
class SiteLimitChanged:
    """The site limit in force changes: an operator's override, or a time-varying limit
    (a grid operator's schedule, a scenario's `limits.csv`).

    `phase_limit_a` is per phase; `power_limit_w` caps the total power, None keeping the
    configured cap. Neither goes above the configured value (the main fuse): a request at
    or above it restores the configured limit.
    """

    at: datetime
    phase_limit_a: float
    power_limit_w: float | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ModeChosen:
    """An operator's charging mode for the session running on a connector now, until it
    ends; `mode` None gives the session its charger's configured mode again."""

    charger_id: str
    connector_id: int
    at: datetime
    mode: ChargingMode | None


@dataclass(frozen=True)
class DemandRecalled:
    """The billing period's peak import so far as the store remembers it from before a
    restart (`ems.demand`): `peak_w` in the period starting at `period_start`."""

    at: datetime
    period_start: datetime
    peak_w: float


@dataclass(frozen=True)
class LoadHistoryRecalled:
    """What the site imported besides our chargers per quarter hour, as the store
    remembers it from before a restart (`ems.load_history`): (slot index, mean W) pairs."""

    at: datetime
    slots: tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class NonComplianceRecalled:
    """The connectors whose chargers were caught drawing more than allowed before a
    restart, as the store remembers them: their sessions are on probation from here on
    (`SiteState.on_probation`), as they were before it."""

    at: datetime
    keys: tuple[str, ...]


@dataclass(frozen=True)
class NonComplianceForgiven:
    """The operator trusts the connector's charger again (repaired, its firmware updated):
    its sessions are no longer on probation. A charger drawing too much now stays flagged:
    forgiving it would not stop it."""

    at: datetime
    key: str


@dataclass(frozen=True)
class PricesChanged:
    """A new dynamic import price series (day-ahead prices) from the site's price source;
    it replaces the tariff's series (`ems.tariff`)."""

    at: datetime
    series: tuple[PricePeriod, ...]


@dataclass(frozen=True)
class Tick:
    """Time passed; the controller may re-plan."""

    at: datetime


Event = (
    MeterReading
    | ChargerAdmitted
    | ChargerConnected
    | ChargerDisconnected
    | ChargerCapabilities
    | StatusChanged
    | SessionStarted
    | SessionEnded
    | MeterSample
    | EnergyNeed
    | ProfileAnswer
    | ProfileRecalled
    | SiteLimitChanged
    | ModeChosen
    | DemandRecalled
    | LoadHistoryRecalled
    | NonComplianceRecalled
    | NonComplianceForgiven
    | PricesChanged
    | Tick
)
