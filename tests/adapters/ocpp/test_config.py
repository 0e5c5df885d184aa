from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.files.errors import InputFileError
from adapters.ocpp import OcppSettings, parse_ocpp_section
from adapters.storage import TokenRecord

GOOD = """
[site]
name = "x"

[ocpp]
port = 0
path_prefix = "/cs/"
unknown_chargers = "pending"
ping_interval_s = 60
known_chargers = ["CP1"]

[ocpp.passwords]
CP1 = "secret"

[[ocpp.id_tokens]]
id_token = "TAG1"
expiry = 2030-01-01T00:00:00Z

[[ocpp.id_tokens]]
id_token = "TAG2"
blocked = true
"""


def parse(text: str, tmp_path: Path) -> OcppSettings:
    path = tmp_path / "site.toml"
    path.write_text(text)
    return parse_ocpp_section(tomllib.loads(text)["ocpp"], path, text)


def test_good_section(tmp_path: Path) -> None:
    settings = parse(GOOD, tmp_path)
    assert settings.port == 0
    assert settings.path_prefix == "cs"
    assert settings.unknown_chargers == "pending"
    assert settings.ping_interval_s == 60.0
    assert settings.passwords == {"CP1": "secret"}
    assert settings.id_tokens == (
        TokenRecord("TAG1", expiry=datetime(2030, 1, 1, tzinfo=UTC)),
        TokenRecord("TAG2", blocked=True),
    )


def test_defaults_keep_pings_and_compression_off() -> None:
    settings = OcppSettings()
    assert (settings.ping_interval_s, settings.compression, settings.unknown_chargers) == (
        None,
        False,
        "reject",
    )


@pytest.mark.parametrize(
    ("replace", "by", "field", "line"),
    [
        ('unknown_chargers = "pending"', 'unknown_chargers = "maybe"', "ocpp.unknown_chargers", 8),
        ("port = 0", "port = 70000", "ocpp.port", 6),
        ("port = 0", 'port = "x"', "ocpp.port", 6),
        ("ping_interval_s = 60", "ping_interval_s = true", "ocpp.ping_interval_s", 9),
        ("ping_interval_s = 60", "pong = 1", "ocpp.pong", 9),
        ("blocked = true", 'blocked = "yes"', "ocpp.id_tokens[1].blocked", 21),
        (
            "expiry = 2030-01-01T00:00:00Z",
            "expiry = 2030-01-01T00:00:00",
            "ocpp.id_tokens[0].expiry",
            17,
        ),
    ],
)
def test_errors_name_file_line_and_field(
    tmp_path: Path, replace: str, by: str, field: str, line: int
) -> None:
    with pytest.raises(InputFileError) as error:
        parse(GOOD.replace(replace, by), tmp_path)
    assert error.value.field == field
    assert error.value.line == line
    assert str(error.value).startswith(f"{tmp_path / 'site.toml'}:{line}: {field}: ")


def test_tls_files_must_exist_and_go_together(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        parse(GOOD.replace("port = 0", 'port = 0\ntls_cert = "c.pem"\ntls_key = "k.pem"'), tmp_path)
    with pytest.raises(InputFileError, match="go together"):
        parse(GOOD.replace("port = 0", 'port = 0\ntls_cert = "c.pem"'), tmp_path)


def test_login_throttle_settings(tmp_path: Path) -> None:
    assert (OcppSettings().auth_max_failures, OcppSettings().auth_failure_window_s) == (5, 60.0)
    text = GOOD.replace("port = 0", "port = 0\nauth_max_failures = 10\nauth_failure_window_s = 300")
    settings = parse(text, tmp_path)
    assert (settings.auth_max_failures, settings.auth_failure_window_s) == (10, 300)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("auth_max_failures = 0", "must be > 0"),
        ("auth_max_failures = 2.5", "must be an integer"),
        ("auth_max_failures = true", "must be an integer"),
        ("auth_failure_window_s = -1", "must be > 0"),
        ('auth_failure_window_s = "60"', "must be a number"),
    ],
)
def test_login_throttle_settings_are_checked(tmp_path: Path, setting: str, message: str) -> None:
    with pytest.raises(InputFileError, match=message) as error:
        parse(GOOD.replace("port = 0", f"port = 0\n{setting}"), tmp_path)
    assert error.value.field == f"ocpp.{setting.split(' ')[0]}"
    assert error.value.line == 7
