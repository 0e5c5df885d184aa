"""Limits as charging-profile commands.

- a running session gets a TX profile bound to its transaction id, lapsing after
  `profile_validity_s` unless refreshed, so a stopped controller leaves the charger on its
  fallback;
- every connector gets an open-ended TX_DEFAULT profile at its fallback when its charger
  connects (the guaranteed-safe value with no controller);
- every charger gets a STATION_MAX profile capping the whole station;
- every schedule starts `start_schedule_backdate_s` in the past (charger clocks drift).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from ems.commands import LimitPeriod, ProfilePurpose, SetLimit
from ems.phases import round_down
from ems.site import ChargerConfig, ControlSettings, SiteConfig
from ems.state import ConnectorRuntime
from optimizer.problem import Phase


def session_profile(
    connector: ConnectorRuntime,
    limits_a: Sequence[float],
    step_s: float | None,
    now: datetime,
    settings: ControlSettings,
    voltage_v: float,
    reason: str,
    max_periods: int,
) -> SetLimit:
    """A TX profile: `limits_a[0]` from now, then one value per `step_s` if given."""
    assert connector.session is not None
    backdate_s = settings.start_schedule_backdate_s
    duration_s = backdate_s + settings.profile_validity_s
    periods, duration_s = schedule_periods(
        limits_a, step_s, len(connector.active_phases), backdate_s, duration_s, max_periods
    )
    return SetLimit(
        charger_id=connector.config.charger_id,
        connector_id=connector.config.connector_id,
        purpose=ProfilePurpose.TX,
        periods=periods,
        start=now - timedelta(seconds=backdate_s),
        reason=reason,
        duration_s=duration_s,
        transaction_id=connector.session.transaction_id,
        voltage_v=voltage_v,
    )


def schedule_periods(
    limits_a: Sequence[float],
    step_s: float | None,
    number_phases: int,
    backdate_s: float,
    duration_s: float,
    max_periods: int,
) -> tuple[tuple[LimitPeriod, ...], float]:
    """Periods from per-step limits, equal neighbours merged, within `max_periods`.

    The first period starts at 0 (the back-dated schedule start). When periods must be
    dropped the schedule ends where the first dropped one would begin.
    """
    periods = [LimitPeriod(0.0, round_down(limits_a[0]), number_phases)]
    if step_s is not None:
        for step, limit in enumerate(limits_a[1:], start=1):
            start_s = backdate_s + step * step_s
            if start_s >= duration_s:
                break
            value = round_down(limit)
            if value == periods[-1].limit_a:
                continue
            if len(periods) >= max_periods:
                duration_s = start_s
                break
            periods.append(LimitPeriod(start_s, value, number_phases))
    return tuple(periods), duration_s


def default_profile(
    connector: ConnectorRuntime, now: datetime, settings: ControlSettings, voltage_v: float
) -> SetLimit:
    """The open-ended TX_DEFAULT profile at the connector's fallback."""
    return SetLimit(
        charger_id=connector.config.charger_id,
        connector_id=connector.config.connector_id,
        purpose=ProfilePurpose.TX_DEFAULT,
        periods=(LimitPeriod(0.0, connector.fallback_a, len(connector.config.phases)),),
        start=now - timedelta(seconds=settings.start_schedule_backdate_s),
        reason=(
            f"fallback {connector.fallback_a:g} A: with every charger at its fallback the "
            "site stays within its limit minus the worst base load"
        ),
        voltage_v=voltage_v,
    )


def station_max_profile(
    site: SiteConfig, charger: ChargerConfig, now: datetime, settings: ControlSettings
) -> SetLimit:
    """The STATION_MAX profile: the most the station may draw per phase."""
    limit_a, why = station_cap_a(site, charger)
    phases = {p for c in charger.connectors for p in c.phases}
    return SetLimit(
        charger_id=charger.id,
        connector_id=0,
        purpose=ProfilePurpose.STATION_MAX,
        periods=(LimitPeriod(0.0, limit_a, len(phases)),),
        start=now - timedelta(seconds=settings.start_schedule_backdate_s),
        reason=f"station cap {limit_a:g} A per phase: {why}",
        voltage_v=site.limits.voltage_v,
    )


def station_cap_a(site: SiteConfig, charger: ChargerConfig) -> tuple[float, str]:
    """The smaller of the site limit and the sum of the connectors' maximums on the
    station's busiest phase."""
    per_phase = {p: 0.0 for p in Phase}
    for connector in charger.connectors:
        for phase in connector.phases:
            per_phase[phase] += connector.max_current_a
    busiest = max(per_phase.values())
    site_limit = site.limits.phase_limit_a
    if site_limit < busiest:
        return round_down(site_limit), "the site limit"
    return round_down(busiest), "the sum of its connectors' maximums"
