"""The live config file: one TOML document for the whole controller.

`load_config` reads the file and validates the sections the controller core needs —
the site (`[site]`, `[[circuits]]`, `[[chargers]]`, see `site_config`) and the control
loop tuning (`[control]`) — into typed objects. The sections of the other edges
(`[ocpp]`, `[[meters]]`, `[http]`, `[store]`) are kept as parsed data in
`LoadedConfig.data` for their own parsers; any other top-level key is an error.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.files.errors import InputFileError
from adapters.files.site_config import SITE_SECTIONS, FieldReader, parse_site
from ems.site import ControlSettings, SiteConfig

OTHER_SECTIONS = ("ocpp", "meters", "http", "store")
"""Top-level keys parsed by other adapters; accepted here without validation."""

_TOML_POSITION = re.compile(r"at line (\d+)")
_CONTROL_FIELDS = {f.name: f for f in dataclasses.fields(ControlSettings)}
_COUNTS = ("meter_recover_readings", "max_schedule_periods")
"""Integer settings that must be at least 1."""
_POSITIVE = (
    "period_s",
    "meter_stale_s",
    "profile_validity_s",
    "meter_max_factor",
    "horizon_step_s",
)
"""Number settings that must be above 0."""


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config file, with the raw document for the other edges' parsers."""

    path: Path
    text: str
    data: Mapping[str, Any]
    site: SiteConfig
    control: ControlSettings


def load_config(path: Path | str) -> LoadedConfig:
    """Read and validate a config file; every problem is an `InputFileError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputFileError(path, f"cannot read: {error.strerror or error}") from error
    return parse_config(text, path)


def parse_config(text: str, path: Path | str) -> LoadedConfig:
    data = parse_toml(text, path)
    reader = FieldReader(path, text)
    reader.check_keys(data, (*SITE_SECTIONS, "control", *OTHER_SECTIONS), "")
    site = parse_site(data, path, text)
    control = parse_control(data.get("control", {}), path, text)
    return LoadedConfig(Path(path), text, data, site, control)


def parse_toml(text: str, path: Path | str) -> dict[str, Any]:
    """Parse TOML text, turning a syntax error into an `InputFileError` with its line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = _TOML_POSITION.search(message)
        line = int(match.group(1)) if match else None
        raise InputFileError(path, f"not valid TOML: {message}", line) from error


def parse_control(value: object, path: Path | str, text: str) -> ControlSettings:
    """Validate `[control]` into `ControlSettings`; absent keys keep their defaults.

    The accepted keys and their types follow the fields of `ControlSettings`, so a setting
    added there is configurable here without further code.
    """
    reader = FieldReader(path, text)
    table = reader.table(value, "control")
    reader.check_keys(table, _CONTROL_FIELDS, "control")
    values: dict[str, Any] = {key: _control_value(reader, table, key) for key in table}
    return ControlSettings(**values)


def _control_value(reader: FieldReader, table: Mapping[str, Any], key: str) -> object:
    kind = str(_CONTROL_FIELDS[key].type)
    field = f"control.{key}"
    if kind == "int":
        number = reader.integer(table, key, "control")
        if key in _COUNTS and number < 1:
            raise reader.error(field, f"must be >= 1 (got {number})")
        if number < 0:
            raise reader.error(field, f"must be >= 0 (got {number})")
        return number
    if kind == "float":
        return reader.number(table, key, "control", positive=key in _POSITIVE)
    if kind == "str | None":
        return reader.string(table, key, "control")
    if kind == "bool":
        return reader.boolean(table, key, "control", default=False)
    raise reader.error(field, f"setting of unsupported type {kind}")
