"""The whole live config: the documented example loads, and every edge's mistakes name
the file, the line and the field."""

from pathlib import Path

import pytest

from adapters.files.app_config import (
    DEFAULT_STORE_PATH,
    VIRTUAL_METER_ID,
    load_app_config,
    parse_app_config,
)
from adapters.files.errors import InputFileError

EXAMPLE = Path(__file__).parents[3] / "examples" / "site.toml"

SITE = """[site]
name = "t"
limit_a = 32
worst_base_load_a = 10

[[chargers]]
id = "CP1"
  [[chargers.connectors]]
  connector_id = 1
  phases = "L1L2L3"
  max_current_a = 16
"""


def test_the_documented_example_loads_with_every_section() -> None:
    config = load_app_config(EXAMPLE)
    assert config.site.name == "Office garage"
    assert config.ocpp.port == 9000
    assert [m.id for m in config.meters] == ["grid"]
    assert config.http.host == "127.0.0.1"
    assert config.store.path == DEFAULT_STORE_PATH
    assert set(config.ocpp.known_chargers) >= {"CP-001", "CP-002"}


def test_a_site_without_meter_gets_a_virtual_one_at_the_worst_base_load() -> None:
    config = parse_app_config(SITE, "site.toml")
    assert [m.id for m in config.meters] == [VIRTUAL_METER_ID]
    assert config.meters[0].current_a == (10.0, 10.0, 10.0)
    assert all(not charger.behind_meter for charger in config.site.chargers)


SITE_LINES = SITE.count("\n") + 1
"""The site part plus the blank line before the section under test."""


@pytest.mark.parametrize(
    ("section", "field", "line_in_section", "message"),
    [
        ('[ocpp]\nport = "nine"\n', "ocpp.port", 2, "integer"),
        ('[[meters]]\nid = "m"\nmap = "nope"\nhost = "h"\n', "meters[0].map", 3, "sdm630"),
        ("[http]\nport = -1\n", "http.port", 2, "0 to 65535"),
        ("[store]\npath = 3\n", "store.path", 2, "SQLite"),
        ("[store]\nfile = 'x'\n", "store.file", 2, "unknown key"),
    ],
)
def test_each_edge_names_the_file_line_and_field(
    section: str, field: str, line_in_section: int, message: str
) -> None:
    with pytest.raises(InputFileError) as caught:
        parse_app_config(SITE + "\n" + section, "site.toml")
    error = caught.value
    assert str(error.path) == "site.toml"
    assert error.field == field
    assert error.line == SITE_LINES + line_in_section
    assert message in error.message
