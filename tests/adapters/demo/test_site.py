from __future__ import annotations

from pathlib import Path

import pytest

from adapters.demo.site import SITE_LIMIT_A, WORST_BASE_LOAD_A, demo_chargers, site_config_text
from adapters.demo.site_load import SiteLoad
from adapters.demo.world import DemoWorld
from adapters.files.app_config import parse_app_config
from adapters.modbus.profile import LoadProfile
from adapters.ocpp.sim import (
    OCPP16,
    OCPP201,
    SimChargerConfig,
    SimulatedCharger,
    SimulatedEV,
    Transaction,
)


def test_the_chargers_mix_protocols_wiring_and_rotation() -> None:
    chargers = demo_chargers(10)
    assert [c.charger_id for c in chargers][:2] == ["DEMO-01", "DEMO-02"]
    assert {c.protocol for c in chargers} == {OCPP16, OCPP201}
    assert {c.phases for c in chargers if c.number_phases == 1} == {"L1", "L2", "L3"}
    assert {"L2L3L1", "L3L1L2"} <= {c.phases for c in chargers}
    assert len(demo_chargers(23)) == 23
    with pytest.raises(ValueError, match="at least one"):
        demo_chargers(0)


def test_the_embedded_config_is_a_valid_live_config(tmp_path: Path) -> None:
    chargers = demo_chargers(10)
    text = site_config_text(chargers, meter_port=5020, http_port=0, db_path=tmp_path / "d.sqlite")
    config = parse_app_config(text, tmp_path / "demo.toml")
    assert config.site.limits.phase_limit_a == SITE_LIMIT_A
    assert [c.id for c in config.site.chargers] == [c.charger_id for c in chargers]
    assert [p.name for p in config.site.chargers[1].connectors[0].phases] == ["L2", "L3", "L1"]
    assert config.site_meter is not None
    assert (config.site_meter.map, config.site_meter.port) == ("sdm630", 5020)
    assert all(c.behind_meter for c in config.site.chargers)
    assert config.ocpp.port == 0
    assert config.ocpp.host == config.http.host == "127.0.0.1"
    assert config.store.path == tmp_path / "d.sqlite"


def test_the_chargers_want_more_than_the_site_can_give() -> None:
    chargers = demo_chargers(10)
    for phase in (1, 2, 3):
        wanted = sum(c.max_current_a for c in chargers if phase in c.site_phases)
        assert wanted > 2 * (SITE_LIMIT_A - WORST_BASE_LOAD_A[phase - 1])


def test_the_site_load_is_the_shifted_building_plus_the_chargers() -> None:
    building = LoadProfile(
        offsets_s=(0.0, 3600.0), current_a=((1.0, 2.0, 3.0), (10.0, 20.0, 30.0)), duration_s=7200.0
    )
    load = SiteLoad.of(building, lambda: (5.0, 0.0, 1.0), start_offset_s=3600.0)
    assert load.building_at(0.0) == (10.0, 20.0, 30.0)
    assert load.current_at(0.0) == (15.0, 20.0, 31.0)
    assert load.current_at(3600.0) == (6.0, 2.0, 4.0)


def test_the_chargers_draw_lands_on_the_site_phases_they_are_wired_to() -> None:
    layout = demo_chargers(3)  # L1L2L3 32 A, L2L3L1 16 A (rotated), L3 32 A (1-phase)
    world = DemoWorld(layout, speed=10.0, seed=1)
    evs = [
        SimulatedEV(max_current_a=10.0),
        SimulatedEV(max_current_a=32.0, charger_phases=(1,)),
        SimulatedEV(max_current_a=20.0),  # a 3-phase EV on a 1-phase connector
    ]
    for spec, ev in zip(layout, evs, strict=True):
        charger = SimulatedCharger(
            SimChargerConfig(
                spec.charger_id, max_current_a=spec.max_current_a, number_phases=spec.number_phases
            ),
            "ws://127.0.0.1:1/ocpp",
        )
        charger.connectors[1].ev = ev
        charger.connectors[1].transaction = Transaction("1", charger.clock())
        world.chargers[spec.charger_id] = charger
    assert world.chargers_draw_a() == pytest.approx((10.0, 10.0 + 16.0, 10.0 + 20.0))
