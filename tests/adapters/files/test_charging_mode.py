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


def test_a_mode_per_id_token_is_read() -> None:
    text = CONFIG + '\n[id_token_modes]\n"04A2B3" = "solar"\nFLEET7 = "fast"\n'
    site = parse_config(text, "site.toml").site
    assert site.mode_for_token("04A2B3") is ChargingMode.SOLAR
    assert site.mode_for_token("FLEET7") is ChargingMode.FAST
    assert site.mode_for_token("other") is None


def test_a_bad_mode_for_an_id_token_names_its_line_and_field() -> None:
    text = CONFIG + '\n[id_token_modes]\nFLEET7 = "fast"\nFLEET8 = "sunny"\n'
    with pytest.raises(InputFileError) as caught:
        parse_config(text, "site.toml")
    assert str(caught.value).startswith("site.toml:15: id_token_modes.FLEET8: unknown mode 'sunny'")


def test_id_token_modes_must_be_a_table() -> None:
    with pytest.raises(InputFileError) as caught:
        parse_config('id_token_modes = "solar"\n' + CONFIG, "site.toml")
    assert "id_token_modes: expected a table" in str(caught.value)
