"""Small hand-made scenarios for the replay tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ems.replay.scenario import BaseLoadPoint, Scenario, SessionSpec
from ems.site import ChargerConfig, ConnectorConfig, SiteConfig
from optimizer.problem import Phase, SiteLimits

START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
THREE = (Phase.L1, Phase.L2, Phase.L3)


def roomy_site(limit_a: float = 200.0) -> SiteConfig:
    """Two chargers: one 3-phase with two connectors, one 1-phase on L2."""
    return SiteConfig(
        name="roomy",
        limits=SiteLimits(phase_limit_a=limit_a),
        chargers=(
            ChargerConfig(
                "a",
                (ConnectorConfig("a", 1, THREE, 16.0), ConnectorConfig("a", 2, THREE, 16.0)),
            ),
            ChargerConfig("b", (ConnectorConfig("b", 1, (Phase.L2,), 16.0),)),
        ),
    )


def session(
    session_id: str,
    connector: str,
    arrive_h: float,
    stay_h: float,
    energy_kwh: float,
    max_kw: float = 11.0,
    phases: int = 3,
) -> SessionSpec:
    arrival = START + timedelta(hours=arrive_h)
    return SessionSpec(
        session_id=session_id,
        connector=connector,
        arrival=arrival,
        departure=arrival + timedelta(hours=stay_h),
        energy_wh=energy_kwh * 1000.0,
        max_power_w=max_kw * 1000.0,
        phases=phases,
    )


@pytest.fixture
def fitting() -> Scenario:
    """Everything fits: a big fuse, modest requests, long stays, a 1-phase EV."""
    return Scenario(
        "fitting",
        roomy_site(),
        (
            session("s1", "a/1", 0.0, 3.0, 8.0),
            session("s2", "a/2", 0.5, 3.0, 10.0),
            session("s3", "b/1", 0.2, 4.0, 6.0, max_kw=3.7, phases=1),
            session("s4", "a/1", 3.5, 2.0, 5.0, phases=1),
        ),
        base_load=(BaseLoadPoint(START, (10.0, 12.0, 8.0)),),
    )
