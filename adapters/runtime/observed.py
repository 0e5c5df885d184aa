"""What the runtime has seen of the chargers, kept in memory for the status page.

The status server must not touch the store per request, so the facts it shows beyond the
controller's view — who the chargers are, when they were last heard, the sessions with
their tokens and energy — are gathered here from the events on their way to the
controller (and from the store once, at start).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ems.events import (
    ChargerConnected,
    ConnectorStatus,
    DemandRecalled,
    Event,
    LoadHistoryRecalled,
    MeterReading,
    MeterSample,
    ModeChosen,
    NonComplianceForgiven,
    NonComplianceRecalled,
    PricesChanged,
    ProfileAnswer,
    ProfileRecalled,
    SessionEnded,
    SessionStarted,
    SiteLimitChanged,
    StatusChanged,
    Tick,
)
from ems.site import connector_key


@dataclass(frozen=True)
class ChargerFacts:
    protocol: str | None = None
    vendor: str | None = None
    model: str | None = None
    last_seen: datetime | None = None


@dataclass(frozen=True)
class SessionFacts:
    transaction_id: str
    charger_id: str
    connector_id: int
    started_at: datetime
    id_token: str | None
    meter_start_wh: float | None


@dataclass(frozen=True)
class ConnectorFacts:
    energy_wh: float | None = None
    """The connector's energy register, as last reported."""
    power_w: float | None = None


class Observed:
    """Charger, session and connector facts, updated from every event the runtime passes on."""

    def __init__(self) -> None:
        self.chargers: dict[str, ChargerFacts] = {}
        self.sessions: dict[str, SessionFacts] = {}
        """Open sessions by connector key."""
        self.connectors: dict[str, ConnectorFacts] = {}

    def see(self, event: Event) -> None:
        if isinstance(
            event,
            MeterReading
            | ProfileAnswer
            | ProfileRecalled
            | SiteLimitChanged
            | DemandRecalled
            | LoadHistoryRecalled
            | NonComplianceRecalled
            | NonComplianceForgiven
            | PricesChanged
            | ModeChosen
            | Tick,
        ):
            return
        charger_id = event.charger_id
        facts = self.chargers.get(charger_id, ChargerFacts())
        if isinstance(event, ChargerConnected):
            facts = ChargerFacts(
                event.protocol, event.vendor or facts.vendor, event.model or facts.model
            )
        self.chargers[charger_id] = replace(facts, last_seen=event.at)
        match event:
            case SessionStarted():
                self.sessions[connector_key(charger_id, event.connector_id)] = SessionFacts(
                    event.transaction_id,
                    charger_id,
                    event.connector_id,
                    event.at,
                    event.id_token,
                    event.meter_start_wh,
                )
            case SessionEnded():
                key = connector_key(charger_id, event.connector_id)
                session = self.sessions.get(key)
                if session is not None and session.transaction_id == event.transaction_id:
                    del self.sessions[key]
                self._forget_power(key)
            case StatusChanged(status=ConnectorStatus.AVAILABLE):
                # the EV left, whether or not its StopTransaction came
                self._forget_power(connector_key(charger_id, event.connector_id))
            case MeterSample():
                key = connector_key(charger_id, event.connector_id)
                known = self.connectors.get(key, ConnectorFacts())
                energy_wh = event.energy_wh if event.energy_wh is not None else known.energy_wh
                self.connectors[key] = ConnectorFacts(energy_wh, event.power_w)
                session = self.sessions.get(key)
                if session is not None and session.meter_start_wh is None:
                    # 2.0.1 has no meterStart: the session's first register reading is it.
                    self.sessions[key] = replace(session, meter_start_wh=energy_wh)

    def _forget_power(self, key: str) -> None:
        """Its last power described an EV that has left: not what the connector draws now."""
        known = self.connectors.get(key)
        if known is not None:
            self.connectors[key] = replace(known, power_w=None)

    def session_energy_wh(self, key: str) -> float | None:
        """Energy delivered in the open session on connector `key`, if known."""
        session = self.sessions.get(key)
        energy = self.connectors.get(key, ConnectorFacts()).energy_wh
        if session is None or energy is None or session.meter_start_wh is None:
            return None
        return max(energy - session.meter_start_wh, 0.0)

    def is_running(self, charger_id: str, transaction_id: str) -> bool:
        """Whether `charger_id` has the open session `transaction_id` (ids of 2.0.1 are
        per station: another charger may run one of the same id)."""
        return any(
            s.charger_id == charger_id and s.transaction_id == transaction_id
            for s in self.sessions.values()
        )
