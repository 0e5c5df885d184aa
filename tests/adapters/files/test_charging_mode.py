"""`[[chargers]] mode`: read, written back, a bad one named by line and field."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from adapters.files.config import parse_config
from adapters.files.errors import InputFileError
from adapters.files.scenario import load_scenario, write_scenario
from ems.replay.synthetic import small
from ems.site import ChargingMode

CONFIG = """[site]
name = "x"
limit_a = 40

[[chargers]]
id = "cp1"
mode = "min+solar"
[[chargers.connectors]]
connector_id = 1
phases = "L1L2L3"
max_current_a = 16
"""


def test_a_mode_is_read() -> None:
    (charger,) = parse_config(CONFIG, "site.toml").site.chargers
    assert charger.mode is ChargingMode.MIN_SOLAR


def test_the_default_is_planned() -> None:
    (charger,) = parse_config(CONFIG.replace('mode = "min+solar"\n', ""), "site.toml").site.chargers
    assert charger.mode is ChargingMode.PLANNED


def test_a_bad_mode_names_its_line_and_field() -> None:
    with pytest.raises(InputFileError) as caught:
        parse_config(CONFIG.replace("min+solar", "sunny"), "site.toml")
    assert str(caught.value).startswith("site.toml:7: chargers[0].mode: unknown mode 'sunny'")


def test_a_mode_is_written_back(tmp_path: Path) -> None:
    scenario = small()
    first, *others = scenario.site.chargers
    site = replace(scenario.site, chargers=(replace(first, mode=ChargingMode.SOLAR), *others))
    write_scenario(replace(scenario, site=site), tmp_path / "s")
    assert load_scenario(tmp_path / "s").scenario.site.chargers[0].mode is ChargingMode.SOLAR
