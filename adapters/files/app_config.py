"""The whole live config: everything `ems run` needs, validated from one TOML file.

`load_config` validates the controller's sections (`[site]`, `[[circuits]]`,
`[[chargers]]`, `[control]`); this module adds the edges' sections, each parsed by its own
adapter, and the store:

[store]
path = "ems.sqlite"        # the SQLite file, relative to the config file; default ems.sqlite

Decisions taken here, so the runtime starts from a consistent picture:

- the chargers of the site are registered with the central system as accepted (added to
  `[ocpp] known_chargers`), so they need no separate enrolment;
- the site meter is the `[[meters]]` entry without a `circuit`, unless
  `control.site_meter_id` names it; a circuit meter is never taken for the site meter;
- a site without a site meter gets a virtual one at the worst configured base load, and
  its chargers count as not behind a meter (nothing measures them), so the controller
  always assumes the worst base load.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.files.config import LoadedConfig, load_config, parse_config
from adapters.files.errors import InputFileError, toml_line_of
from adapters.http.settings import HttpSettings, parse_http_section
from adapters.modbus.config import VIRTUAL, MeterSettings, parse_meters_section
from adapters.ocpp.config import OcppSettings, parse_ocpp_section
from ems.site import ControlSettings, SiteConfig

DEFAULT_STORE_FILE = "ems.sqlite"
VIRTUAL_METER_ID = "virtual-base-load"
"""The id of the meter made up for a site without a site meter."""
_STORE_KEYS = ("path",)


@dataclass(frozen=True)
class StoreSettings:
    path: Path
    """The SQLite file; created with its schema when missing."""


@dataclass(frozen=True)
class AppConfig:
    """A validated live config: the controller's part and every edge's settings.

    Built from a file by `load_app_config`, or directly in code (the demo does): the
    runtime reads nothing else.
    """

    site: SiteConfig
    """The site as the controller sees it (chargers unmetered when the meter is virtual)."""
    control: ControlSettings
    """`[control]` with `site_meter_id` resolved to the site meter."""
    ocpp: OcppSettings
    meters: tuple[MeterSettings, ...]
    http: HttpSettings
    store: StoreSettings
    path: Path | None = None
    """The config file it came from, if any."""

    @property
    def site_meter(self) -> MeterSettings | None:
        """The meter `control.site_meter_id` names, else the one without a circuit."""
        wanted = self.control.site_meter_id
        for meter in self.meters:
            if meter.id == wanted or (wanted is None and meter.circuit is None):
                return meter
        return None


def load_app_config(path: Path | str) -> AppConfig:
    """Read and validate a live config file; every problem is an `InputFileError`."""
    return compose(load_config(path))


def parse_app_config(text: str, path: Path | str) -> AppConfig:
    """Validate live config `text` as if read from `path` (relative paths resolve there)."""
    return compose(parse_config(text, path))


def compose(loaded: LoadedConfig) -> AppConfig:
    """Parse the edges' sections of an already validated config."""
    data, path, text = loaded.data, loaded.path, loaded.text
    ocpp = parse_ocpp_section(_table(data, "ocpp", path, text), path, text)
    known = tuple(dict.fromkeys((*ocpp.known_chargers, *(c.id for c in loaded.site.chargers))))
    ocpp = dataclasses.replace(ocpp, known_chargers=known)
    meters = parse_meters_section(data.get("meters", []), path, text) if "meters" in data else ()
    _check_meter_circuits(meters, loaded.site, path, text)
    http = parse_http_section(_table(data, "http", path, text), path, text)
    store = _parse_store(_table(data, "store", path, text), path, text)
    site, control, meters = _resolve_site_meter(loaded.site, loaded.control, meters, path, text)
    return AppConfig(site, control, ocpp, meters, http, store, path)


def _table(data: Mapping[str, Any], name: str, path: Path, text: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise InputFileError(path, f"must be a table [{name}]", toml_line_of(text, name), name)
    return value


def _parse_store(table: Mapping[str, Any], path: Path, text: str) -> StoreSettings:
    for key in table:
        if key not in _STORE_KEYS:
            field = f"store.{key}"
            raise InputFileError(
                path, "unknown key (known: path)", toml_line_of(text, field), field
            )
    value = table.get("path", DEFAULT_STORE_FILE)
    if not isinstance(value, str) or not value.strip():
        raise InputFileError(
            path,
            f"must be the path of the SQLite file (got {value!r})",
            toml_line_of(text, "store.path"),
            "store.path",
        )
    return StoreSettings(path.parent / value)


def _check_meter_circuits(
    meters: tuple[MeterSettings, ...], site: SiteConfig, path: Path, text: str
) -> None:
    circuits = {c.id for c in site.circuits}
    for index, meter in enumerate(meters):
        if meter.circuit is not None and meter.circuit not in circuits:
            field = f"meters[{index}].circuit"
            known = ", ".join(sorted(circuits)) or "none configured"
            raise InputFileError(
                path,
                f"no circuit {meter.circuit!r} (circuits: {known})",
                toml_line_of(text, field),
                field,
            )


def _resolve_site_meter(
    site: SiteConfig,
    control: ControlSettings,
    meters: tuple[MeterSettings, ...],
    path: Path,
    text: str,
) -> tuple[SiteConfig, ControlSettings, tuple[MeterSettings, ...]]:
    wanted = control.site_meter_id
    if wanted is not None:
        meter = next((m for m in meters if m.id == wanted), None)
        if meter is None or meter.circuit is not None:
            known = ", ".join(m.id for m in meters if m.circuit is None) or "none"
            field = "control.site_meter_id"
            raise InputFileError(
                path,
                f"no site meter {wanted!r} in [[meters]] (site meters: {known})",
                toml_line_of(text, field),
                field,
            )
    else:
        meter = next((m for m in meters if m.circuit is None), None)
    if meter is None:
        meter = MeterSettings(
            id=VIRTUAL_METER_ID,
            map=VIRTUAL,
            current_a=site.worst_base_load_a,
            nominal_voltage_v=site.limits.voltage_v,
        )
        meters = (*meters, meter)
    if meter.is_virtual:
        chargers = tuple(dataclasses.replace(c, behind_meter=False) for c in site.chargers)
        site = dataclasses.replace(site, chargers=chargers)
    return site, dataclasses.replace(control, site_meter_id=meter.id), meters
