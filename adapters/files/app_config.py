"""The whole live config: everything `ems run` needs, validated from one TOML file.

`load_config` validates the controller's sections (`[site]`, `[[circuits]]`,
`[[chargers]]`, `[control]`); this module adds the edges' sections, each parsed by its own
adapter, and the store:

[store]
path = "ems.sqlite"        # the SQLite file, relative to the config file;
                           # default /var/lib/ems/ems.sqlite (DEFAULT_STORE_PATH)

Decisions taken here, so the runtime starts from a consistent picture:

- the chargers of the site are registered with the central system as accepted (added to
  `[ocpp] known_chargers`), so they need no separate enrolment;
- the site meter is the `[[meters]]` entry without a `circuit`, unless
  `control.site_meter_id` names it; a circuit meter is never taken for the site meter;
- a site without a site meter gets a virtual one at the worst configured base load, and
  its chargers count as not behind a meter (nothing measures them), so the controller
  always assumes the worst base load.

Every mistake in the file is reported at once (`InputFileErrors`), except that a
misspelt key stops the checks of its table, and the checks across sections (a meter's
circuit, `control.site_meter_id`) wait until the sections they join are right.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.files.config import CONFIG_SECTIONS, LoadedConfig, controller_part, parse_toml
from adapters.files.errors import InputFileError, Problems, read_text, toml_line_of
from adapters.files.grid_caps import grid_caps_path
from adapters.files.site_config import FieldReader, declared_circuit_ids
from adapters.files.tariff_config import PriceSource, parse_price_source
from adapters.http.settings import HttpSettings, parse_http_section
from adapters.modbus.config import VIRTUAL, MeterSettings, parse_meters_section
from adapters.ocpp.config import OcppSettings, parse_ocpp_section
from ems.site import ControlSettings, SiteConfig

DEFAULT_CONFIG_PATH = Path("/etc/ems/site.toml")
"""Where the operator's commands look for the config when given none."""
DEFAULT_STORE_PATH = Path("/var/lib/ems/ems.sqlite")
"""The store when `[store]` names none: in the folder systemd makes for the service, owned
by its user, with `StateDirectory=ems` (the config's folder, /etc/ems, is not the
service's to write). A fixed path, not `$STATE_DIRECTORY`, so that the operator's
commands, which systemd does not start, find the same file."""
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
    prices: PriceSource | None = None
    """Where `[tariff]` has the price series refreshed from while running; None for nowhere."""
    grid_caps_path: Path | None = None
    """The grid operator's cap schedule `[site] grid_caps_file` names, read again while
    running when it changes; None for none."""

    @property
    def site_meter(self) -> MeterSettings | None:
        """The meter `control.site_meter_id` names, else the one without a circuit."""
        wanted = self.control.site_meter_id
        for meter in self.meters:
            if meter.id == wanted or (wanted is None and meter.circuit is None and not meter.is_pv):
                return meter
        return None

    @property
    def pv_meters(self) -> tuple[MeterSettings, ...]:
        """The meters of the site's PV production (`role = "pv"`): one per inverter."""
        return tuple(m for m in self.meters if m.is_pv)


def load_app_config(path: Path | str) -> AppConfig:
    """Read and validate a live config file; every problem is an `InputFileError`."""
    path = Path(path)
    return _validated(read_text(path), path)[1]


def parse_app_config(text: str, path: Path | str) -> AppConfig:
    """Validate live config `text` as if read from `path` (relative paths resolve there)."""
    return _validated(text, Path(path))[1]


def load_controller_config(path: Path | str) -> LoadedConfig:
    """The site and `[control]` as the file writes them, once the whole file is validated
    as `ems run` validates it: what a dry-run plans with."""
    path = Path(path)
    return _validated(read_text(path), path)[0]


def _validated(text: str, path: Path) -> tuple[LoadedConfig, AppConfig]:
    data = parse_toml(text, path)
    FieldReader(path, text).check_keys(data, CONFIG_SECTIONS, "")
    problems = Problems()
    loaded = problems.attempt(lambda: controller_part(data, path, text), None)
    ocpp = problems.attempt(
        lambda: parse_ocpp_section(_table(data, "ocpp", path, text), path, text), None
    )
    meters = problems.attempt(lambda: _parse_meters(data, path, text), ())
    http = problems.attempt(
        lambda: parse_http_section(_table(data, "http", path, text), path, text), None
    )
    store = problems.attempt(
        lambda: _parse_store(_table(data, "store", path, text), path, text), None
    )
    problems.raise_any()
    assert loaded is not None, "raise_any raised otherwise"
    assert ocpp is not None, "raise_any raised otherwise"
    assert http is not None, "raise_any raised otherwise"
    assert store is not None, "raise_any raised otherwise"
    known = tuple(dict.fromkeys((*ocpp.known_chargers, *(c.id for c in loaded.site.chargers))))
    ocpp = dataclasses.replace(ocpp, known_chargers=known)
    site, control, meters = _resolve_site_meter(loaded.site, loaded.control, meters, path, text)
    reader = FieldReader(path, text)
    prices = parse_price_source(reader, data.get("tariff"))
    caps_path = grid_caps_path(reader, data["site"])
    return loaded, AppConfig(site, control, ocpp, meters, http, store, path, prices, caps_path)


def _parse_meters(data: Mapping[str, Any], path: Path, text: str) -> tuple[MeterSettings, ...]:
    if "meters" not in data:
        return ()
    meters = parse_meters_section(data["meters"], path, text)
    _check_meter_circuits(meters, declared_circuit_ids(data), path, text)
    return meters


def _table(data: Mapping[str, Any], name: str, path: Path, text: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise InputFileError(path, f"must be a table [{name}]", toml_line_of(text, name), name)
    return value


def _parse_store(table: Mapping[str, Any], path: Path, text: str) -> StoreSettings:
    def fail(field: str, message: str) -> InputFileError:
        return InputFileError(path, message, toml_line_of(text, field), field)

    for key in table:
        if key not in _STORE_KEYS:
            raise fail(f"store.{key}", "unknown key (known: path)")
    if "path" not in table:
        return StoreSettings(DEFAULT_STORE_PATH)
    value = table["path"]
    if not isinstance(value, str) or not value.strip():
        raise fail(
            "store.path",
            f"must be the path of the SQLite file, e.g. {DEFAULT_STORE_PATH} (got {value!r})",
        )
    store = path.parent / value
    problem = store_path_problem(store)
    if problem is not None:
        raise fail("store.path", problem)
    return StoreSettings(store)


def store_path_problem(store: Path) -> str | None:
    """What makes `store` no path for a SQLite file, whatever the user and the moment
    (None when nothing does): a folder where the file should be, or a file where a folder
    should be. Whether the folder exists and may be written is for the command that
    opens it."""
    if "\0" in str(store):
        return "must not contain a NUL character"
    if store.is_dir():
        return f"is a folder: name the SQLite file in it, e.g. {store / DEFAULT_STORE_PATH.name}"
    existing = next((p for p in store.parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        return f"{existing} is not a folder: put the store in a folder, e.g. {DEFAULT_STORE_PATH}"
    return None


def _check_meter_circuits(
    meters: tuple[MeterSettings, ...], circuits: set[str], path: Path, text: str
) -> None:
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
        if meter is None or meter.circuit is not None or meter.is_pv:
            known = ", ".join(m.id for m in meters if m.circuit is None and not m.is_pv)
            known = known or "none"
            field = "control.site_meter_id"
            raise InputFileError(
                path,
                f"no site meter {wanted!r} in [[meters]] (site meters: {known})",
                toml_line_of(text, field),
                field,
            )
    else:
        meter = next((m for m in meters if m.circuit is None and not m.is_pv), None)
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
