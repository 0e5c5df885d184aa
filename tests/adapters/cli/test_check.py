"""`ems check`: the whole config validated as `ems run` validates it, every problem at once;
and `ems run` and `ems plan` refusing exactly what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from adapters.cli.main import cli

METER = '[[meters]]\nid = "grid"\nhost = "192.0.2.10"\n'

SITE = """\
[site]
name = "check test"
limit_a = 32
worst_base_load_a = 10

[[chargers]]
id = "CP1"
  [[chargers.connectors]]
  connector_id = 1
  phases = "L1L2L3"
  max_current_a = 16

[[chargers]]
id = "CP2"
  [[chargers.connectors]]
  connector_id = 1
  phases = "L2"
  max_current_a = 16

[ocpp]
port = 9000

[ocpp.passwords]
CP1 = "a-long-charger-password"

[store]
path = "ems.sqlite"
"""

BROKEN = """\
[site]
name = "everything wrong"
limit_a = -32
worst_base_load_a = 10

[[chargers]]
id = "CP1"
  [[chargers.connectors]]
  connector_id = 1
  phases = "L1L4"
  max_current_a = 16

[[chargers]]
id = "CP2"
  [[chargers.connectors]]
  connector_id = 1
  phases = "L2"
  max_current_a = 0

[control]
period_s = 0
deadband_a = 99

[ocpp]
port = 9000
colour = "blue"

[[meters]]
id = "grid"
map = "sdm630"
host = "192.0.2.10"
unit_id = 300

[http]
port = 70000

[store]
path = "."
"""
"""One mistake in every section, and two in [control]."""

BROKEN_FIELDS = {
    "limit_a = -32": "site.limit_a",
    'phases = "L1L4"': "chargers[0].connectors[0].phases",
    "max_current_a = 0": "chargers[1].connectors[0].max_current_a",
    "period_s = 0": "control.period_s",
    "deadband_a = 99": "control.deadband_a",
    'colour = "blue"': "ocpp.colour",
    "unit_id = 300": "meters[0].unit_id",
    "port = 70000": "http.port",
    'path = "."': "store.path",
}


def _write(folder: Path, text: str, name: str = "site.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _ems(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _line(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.strip() == fragment)


def test_a_good_config_is_summarised(tmp_path: Path) -> None:
    config = _write(tmp_path, SITE)
    result = _ems("check", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert f"{config}: OK" in result.output
    assert f"store: {tmp_path / 'ems.sqlite'}" in result.output


def test_every_error_is_reported_at_once_with_its_line_and_field(tmp_path: Path) -> None:
    config = _write(tmp_path, BROKEN)
    result = _ems("check", "--config", str(config))
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    for fragment, field in BROKEN_FIELDS.items():
        expected = f"error: {config}:{_line(BROKEN, fragment)}: {field}: "
        assert any(line.startswith(expected) for line in errors), (expected, result.output)
    assert len(errors) == len(BROKEN_FIELDS), result.output
    assert f"{len(BROKEN_FIELDS)} problems" in result.output


@pytest.mark.parametrize(
    ("old", "new", "wrong", "field"),
    [
        ("[store]", '[http]\ntoken = "short"\n\n[store]', 'token = "short"', "http.token"),
        (
            "[store]",
            "[[ocpp.id_tokens]]\nid_token = 7\n\n[store]",
            "id_token = 7",
            "ocpp.id_tokens[0].id_token",
        ),
        (
            "[store]",
            METER + 'map = "sdm630"\nunit_id = 300\n\n[store]',
            "unit_id = 300",
            "meters[0].unit_id",
        ),
        (
            "[store]",
            METER + 'map = "no-such-map"\n\n[store]',
            'map = "no-such-map"',
            "meters[0].map",
        ),
        ("port = 9000", "port = 9000\nheartbeat = 60", "heartbeat = 60", "ocpp.heartbeat"),
    ],
)
def test_run_plan_and_check_refuse_the_same_configs(
    tmp_path: Path, old: str, new: str, wrong: str, field: str
) -> None:
    text = SITE.replace(old, new)
    config = _write(tmp_path, text)
    expected = f"{config}:{_line(text, wrong)}: {field}: "
    for command in ("check", "plan", "run"):
        result = _ems(command, "--config", str(config))
        assert result.exit_code == 2, (command, result.output)
        assert expected in result.output, (command, result.output)
        assert "Traceback" not in result.output


def test_a_config_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_bytes(SITE.replace('"check test"', '"Caf\xe9"').encode("latin-1"))
    for command in (("check",), ("plan",), ("run",), ("meter", "read")):
        result = _ems(*command, "--config", str(config))
        assert result.exit_code == 2, result.output
        assert f"{config}:2: not UTF-8 text" in result.output
        assert "save it as UTF-8" in result.output


def test_a_config_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_bytes(b"\xef\xbb\xbf" + SITE.encode())
    result = _ems("check", "--config", str(config))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ('"."', "is a folder"),
        ('"a\\u0000b.sqlite"', "must not contain"),
        ('"site.toml/ems.sqlite"', "is not a folder"),
    ],
)
def test_a_bad_store_path_is_a_config_error(tmp_path: Path, value: str, words: str) -> None:
    text = SITE.replace('path = "ems.sqlite"', f"path = {value}")
    config = _write(tmp_path, text)
    for command in ("check", "run"):
        result = _ems(command, "--config", str(config))
        assert result.exit_code == 2, result.output
        assert f"{config}:{_line(text, f'path = {value}')}: store.path: " in result.output
        assert words in result.output


def test_the_default_store_is_the_state_folder_of_the_service(tmp_path: Path) -> None:
    config = _write(tmp_path, SITE.replace('[store]\npath = "ems.sqlite"\n', ""))
    result = _ems("check", "--config", str(config), "--db", str(tmp_path / "x.sqlite"))
    assert result.exit_code == 0, result.output
    assert f"store: {tmp_path / 'x.sqlite'}" in result.output
    defaulted = _ems("check", "--config", str(config))
    assert "/var/lib/ems/ems.sqlite" in defaulted.output


def test_chargers_without_a_password_are_warned_about_one_by_one(tmp_path: Path) -> None:
    config = _write(tmp_path, SITE)
    result = _ems("check", "--config", str(config))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, result.output
    assert warnings[0].startswith("warning: charger CP2 has no password")
    assert "ems chargers add CP2" in warnings[0]
    added = _ems("chargers", "--config", str(config), "add", "CP2")
    assert added.exit_code == 0, added.output
    after = _ems("check", "--config", str(config))
    assert "warning: " not in after.output


def test_admitting_unknown_chargers_is_warned_about(tmp_path: Path) -> None:
    config = _write(
        tmp_path, SITE.replace("port = 9000", 'port = 9000\nunknown_chargers = "accept"')
    )
    result = _ems("check", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert 'warning: [ocpp] unknown_chargers = "accept": any charger id' in result.output
