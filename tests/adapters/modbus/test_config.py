"""The [[meters]] section: valid settings, and errors that name file, line and field."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from adapters.files.errors import InputFileError
from adapters.modbus.config import MeterSettings, Sign, parse_meters_section

SITE = """\
[site]
limit_a = 63

[[meters]]
id = "grid"
map = "sdm630"
host = "192.168.1.50"
unit_id = 1

[[meters]]
id = "garage"
map = "em24_e1"
host = "gateway.local"
port = 5020
unit_id = 7
circuit = "garage"
sign = "export_positive"
interval_s = 2.0

[[meters]]
id = "base"
map = "virtual"
circuit = "office"
current_a = [12.0, 10.0, 14.5]
"""


def parse(text: str, path: Path | str = "site.toml") -> tuple[MeterSettings, ...]:
    return parse_meters_section(tomllib.loads(text)["meters"], path, text)


def test_valid_section() -> None:
    grid, garage, base = parse(SITE)

    assert grid == MeterSettings(id="grid", map="sdm630", host="192.168.1.50", unit_id=1)
    assert (garage.port, garage.unit_id, garage.circuit) == (5020, 7, "garage")
    assert garage.sign is Sign.EXPORT_POSITIVE
    assert garage.interval_s == 2.0
    assert base.is_virtual
    assert base.current_a == (12.0, 10.0, 14.5)


@pytest.mark.parametrize(
    ("old", "new", "field", "line"),
    [
        ('map = "sdm630"', 'map = "sdm999"', "meters[0].map", 6),
        ('host = "192.168.1.50"', 'host = "192.168.1.300"', "meters[0].host", 7),
        ("unit_id = 1\n", "unit_id = 248\n", "meters[0].unit_id", 8),
        ("unit_id = 7", "unit_id = -1", "meters[1].unit_id", 15),
        ("port = 5020", "port = 70000", "meters[1].port", 14),
        ('sign = "export_positive"', 'sign = "backwards"', "meters[1].sign", 17),
        ("interval_s = 2.0", "intervall_s = 2.0", "meters[1].intervall_s", 18),
        ("current_a = [12.0, 10.0, 14.5]", "current_a = [12.0]", "meters[2].current_a", 24),
    ],
)
def test_errors_name_file_line_and_field(old: str, new: str, field: str, line: int) -> None:
    with pytest.raises(InputFileError) as caught:
        parse(SITE.replace(old, new, 1), "/srv/site.toml")

    error = caught.value
    assert (error.field, error.line) == (field, line)
    assert str(error).startswith(f"/srv/site.toml:{line}: {field}: ")


def test_unknown_map_lists_the_shipped_ones() -> None:
    with pytest.raises(InputFileError, match=r"shipped maps: .*sdm630"):
        parse(SITE.replace('"sdm630"', '"eastron"'))


@pytest.mark.parametrize("unit_id", [0, 1, 247, 255])
def test_unit_ids_a_tcp_meter_may_use(unit_id: int) -> None:
    (grid, *_) = parse(SITE.replace("unit_id = 1\n", f"unit_id = {unit_id}\n", 1))

    assert grid.unit_id == unit_id


def test_a_second_site_meter_is_an_error() -> None:
    text = SITE.replace('circuit = "garage"\n', "")
    with pytest.raises(InputFileError, match="second meter for the site") as caught:
        parse(text)
    assert caught.value.field == "meters[1].circuit"


def test_map_file_next_to_the_site_file(tmp_path: Path) -> None:
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "mine.toml").write_text(
        'name = "mine"\nfunction_code = 3\n[registers]\ncurrent_l1 = { address = 1 }\n'
    )
    text = SITE.replace('"sdm630"', '"maps/mine.toml"')

    (grid, *_) = parse(text, tmp_path / "site.toml")

    assert grid.map == str((tmp_path / "maps" / "mine.toml").resolve())


def test_error_inside_a_map_file_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(
        'name = "bad"\nfunction_code = 3\n[registers]\ncurent_l1 = { address = 1 }\n'
    )
    with pytest.raises(InputFileError) as caught:
        parse(SITE.replace('"sdm630"', '"bad.toml"'), tmp_path / "site.toml")

    assert caught.value.path == tmp_path / "bad.toml"
    assert (caught.value.line, caught.value.field) == (4, "registers.curent_l1")


PV = '\n[[meters]]\nid = "roof"\nmap = "sunspec_inverter"\nhost = "192.168.1.60"\nrole = "pv"\n'


def test_a_pv_meter_beside_the_site_meter() -> None:
    *_, roof = parse(SITE + PV)
    assert roof.is_pv
    assert roof.circuit is None


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ('role = "pv"', 'role = "solar"', "role", "must be one of grid, pv (got 'solar')"),
        ('role = "pv"', 'role = "pv"\ncircuit = "garage"', "circuit", "not a circuit"),
    ],
)
def test_bad_pv_meters_name_line_and_field(old: str, new: str, field: str, message: str) -> None:
    text = SITE + PV.replace(old, new)
    with pytest.raises(InputFileError) as caught:
        parse(text)
    assert caught.value.field == f"meters[3].{field}"
    last = max(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(field))
    assert caught.value.line == last
    assert message in caught.value.message


def test_a_pv_meter_is_read_over_modbus() -> None:
    text = SITE + '\n[[meters]]\nid = "roof"\nmap = "virtual"\nrole = "pv"\ncurrent_a = 1\n'
    with pytest.raises(InputFileError) as caught:
        parse(text)
    assert caught.value.field == "meters[3].map"


def test_an_inverters_map_needs_the_pv_role() -> None:
    text = SITE + PV.replace('role = "pv"\n', "")
    with pytest.raises(InputFileError) as caught:
        parse(text)
    assert caught.value.field == "meters[3].map"
    assert 'give this meter role = "pv"' in caught.value.message
