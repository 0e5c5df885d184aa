"""The OCPP payloads the dry-run would send, rendered exactly as the central system does.

Same renderer (`adapters.ocpp.profiles`), same profile ids (`adapters.ocpp.server`), same
capabilities; only the sending is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.ocpp.profiles import (
    ChargerCaps,
    profile_id_for,
    render_clear_charging_profile,
    render_set_charging_profile,
)
from adapters.planning.snapshot import RATE_UNITS, CapabilitiesSnapshot
from ems.commands import Command, ProfilePurpose, SetLimit
from ems.site import SiteConfig


@dataclass(frozen=True)
class ChargerTarget:
    """How the dry-run addresses a charger: its protocol and what it accepts."""

    charger_id: str
    protocol: str
    protocol_known: bool
    """False when the protocol is the default assumed for a charger the snapshot omits."""
    online: bool = True
    capabilities: CapabilitiesSnapshot | None = None


@dataclass(frozen=True)
class Payload:
    """One request the dry-run would send; `error` instead of `payload` when the command
    cannot be rendered for this charger (the central system would refuse to send it)."""

    charger_id: str
    protocol: str
    action: str
    connector_id: int
    purpose: ProfilePurpose
    profile_id: int | None
    reason: str
    payload: dict[str, Any] | None
    error: str | None = None


def charger_caps(
    site: SiteConfig, target: ChargerTarget, connector_id: int, max_periods: int | None = None
) -> ChargerCaps:
    """The renderer's view of a charger; `max_periods` tightens the charger's own cap."""
    caps = target.capabilities
    limits = [n for n in (max_periods, caps.max_periods if caps else None) if n is not None]
    return ChargerCaps(
        rate_units=caps.rate_units if caps else RATE_UNITS,
        max_stack_level=caps.max_stack_level if caps else None,
        max_periods=min(limits) if limits else None,
        number_phases=_number_phases(site, target.charger_id, connector_id),
    )


def render(
    site: SiteConfig, target: ChargerTarget, command: Command, max_periods: int | None = None
) -> Payload:
    if isinstance(command, SetLimit):
        profile_id = profile_id_for(command.purpose, command.connector_id)
        caps = charger_caps(site, target, command.connector_id, max_periods)
        try:
            payload = render_set_charging_profile(command, target.protocol, caps, profile_id)
        except ValueError as error:
            return _payload(target, "SetChargingProfile", command, profile_id, None, str(error))
        return _payload(target, "SetChargingProfile", command, profile_id, payload)
    payload = render_clear_charging_profile(command, target.protocol)
    return _payload(target, "ClearChargingProfile", command, None, payload)


def _payload(
    target: ChargerTarget,
    action: str,
    command: Command,
    profile_id: int | None,
    payload: dict[str, Any] | None,
    error: str | None = None,
) -> Payload:
    return Payload(
        charger_id=target.charger_id,
        protocol=target.protocol,
        action=action,
        connector_id=command.connector_id,
        purpose=command.purpose,
        profile_id=profile_id,
        reason=command.reason,
        payload=payload,
        error=error,
    )


def _number_phases(site: SiteConfig, charger_id: str, connector_id: int) -> int:
    """A connector's wired phases; for the whole station (0), the phases it spans."""
    charger = next(c for c in site.chargers if c.id == charger_id)
    phases = {
        p for c in charger.connectors if connector_id in (0, c.connector_id) for p in c.phases
    }
    return len(phases) or 3
