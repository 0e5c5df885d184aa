"""A replay scenario's state at one moment, as a snapshot to plan from.

At `at`: the sessions plugged in (arrived, not yet left) with their departure and the
energy they still need, the EV's per-phase maximum, the base load and the site limit in
force. What a session still needs is its request minus what was delivered to it before
`at` (the caller replays the scenario up to then, see `ReplayResult.delivered_before`);
without that, its whole request. The site meter reads the base load alone: the
controller takes the base load as the meter minus the chargers' draw, so leaving both out
plans the same.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from adapters.planning.snapshot import (
    ChargerSnapshot,
    ConnectorSnapshot,
    MeterSnapshot,
    SessionSnapshot,
    Snapshot,
)
from ems.events import ConnectorStatus
from ems.replay.engine import ev_max_current_a
from ems.replay.scenario import Scenario, SessionSpec
from ems.site import SiteConfig


def scenario_state(
    scenario: Scenario, at: datetime, delivered_wh: Mapping[str, float] | None = None
) -> tuple[SiteConfig, Snapshot]:
    """The scenario's site with the limit in force at `at`, and its state then;
    `delivered_wh` is each session's energy delivered before `at`."""
    site = _site_at(scenario, at)
    present = [s for s in scenario.sessions if s.arrival <= at < s.departure]
    connectors = scenario.connectors_by_key()
    voltage_v = site.limits.voltage_v
    chargers: list[ChargerSnapshot] = []
    for charger in site.chargers:
        states = tuple(
            _connector_state(
                s,
                ev_max_current_a(connectors[s.connector], s, voltage_v),
                (delivered_wh or {}).get(s.session_id, 0.0),
            )
            for s in present
            if connectors[s.connector].charger_id == charger.id
        )
        if states:
            chargers.append(ChargerSnapshot(charger.id, connectors=states))
    meter = MeterSnapshot(current_a=_base_load_at(scenario, at), at=at)
    return site, Snapshot(at=at, meter=meter, chargers=tuple(chargers))


def _connector_state(
    session: SessionSpec, ev_max_a: float, delivered_wh: float
) -> ConnectorSnapshot:
    connector_id = int(session.connector.rpartition("/")[2])
    return ConnectorSnapshot(
        connector_id=connector_id,
        status=ConnectorStatus.CHARGING,
        session=SessionSnapshot(
            transaction_id=session.session_id,
            started=session.arrival,
            energy_need_wh=max(0.0, session.energy_wh - delivered_wh),
            departure=session.departure,
            ev_max_current_a=ev_max_a,
        ),
    )


def _base_load_at(scenario: Scenario, at: datetime) -> tuple[float, float, float]:
    index = bisect_right([p.at for p in scenario.base_load], at) - 1
    if index < 0:
        return (0.0, 0.0, 0.0)
    a, b, c = scenario.base_load[index].current_a
    return (a, b, c)


def _site_at(scenario: Scenario, at: datetime) -> SiteConfig:
    """The site with a time-varying limit applied (never above its configured main fuse),
    its tariff with the scenario's prices and its PV forecast."""
    index = bisect_right([p.at for p in scenario.limits], at) - 1
    site = scenario.priced_site
    if index < 0:
        return site
    point = scenario.limits[index]
    limits = site.limits
    power = limits.power_limit_w
    if point.power_limit_w is not None:
        power = point.power_limit_w if power is None else min(power, point.power_limit_w)
    return replace(
        site,
        limits=replace(
            limits,
            phase_limit_a=min(limits.phase_limit_a, point.phase_limit_a),
            power_limit_w=power,
        ),
    )
