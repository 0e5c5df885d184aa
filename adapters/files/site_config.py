"""The site part of a config file: `[site]`, `[[circuits]]`, `[[chargers]]`.

The live config (`adapters.files.config`) and a replay scenario's `site.toml` share this
schema, documented field by field in `examples/site.toml`. `FieldReader` reads typed
values out of a parsed TOML document; every accessor takes the dotted field path it reads
(`chargers[1].connectors[0].phases`) so an error names the file, the line and the field.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from adapters.files.errors import InputFileError, toml_line_of
from ems.site import ChargerConfig, ConnectorConfig, SiteConfig
from optimizer.problem import DEFAULT_MIN_CURRENT_A, DEFAULT_VOLTAGE_V, Circuit, Phase, SiteLimits

SITE_SECTIONS = ("site", "circuits", "chargers")
"""The top-level keys `parse_site` reads."""

_SITE_KEYS = ("name", "limit_a", "power_limit_kw", "voltage_v", "worst_base_load_a")
_CIRCUIT_KEYS = ("id", "limit_a", "parent")
_CHARGER_KEYS = ("id", "behind_meter", "fallback_a", "connectors")
_CONNECTOR_KEYS = (
    "connector_id",
    "phases",
    "max_current_a",
    "min_current_a",
    "circuit",
    "priority",
)
_PHASE_TOKEN = re.compile(r"L[0-9]+|.")


class FieldReader:
    """Reads values out of one parsed TOML document and raises located errors."""

    def __init__(self, path: Path | str, text: str) -> None:
        self.path = path
        self.text = text

    def error(self, field: str, message: str) -> InputFileError:
        return InputFileError(self.path, message, toml_line_of(self.text, field), field)

    def table(self, value: object, field: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(field, f"expected a table, got {_describe(value)}")
        return value

    def tables(self, value: object, field: str) -> list[dict[str, Any]]:
        """An array of tables (`[[name]]`)."""
        if not isinstance(value, list):
            raise self.error(
                field, f"expected an array of tables [[{field}]], got {_describe(value)}"
            )
        return [self.table(item, f"{field}[{i}]") for i, item in enumerate(value)]

    def check_keys(self, table: Mapping[str, Any], allowed: Collection[str], prefix: str) -> None:
        """Reject keys the schema does not know, suggesting the closest known one."""
        for key in table:
            if key not in allowed:
                raise self.error(_join(prefix, key), unknown_key_message(key, allowed))

    def required(self, table: Mapping[str, Any], key: str, prefix: str) -> object:
        if key not in table:
            where = f"[{prefix}]" if prefix else "the top level"
            raise self.error(_join(prefix, key), f"missing required key '{key}' in {where}")
        return table[key]

    def number(
        self,
        table: Mapping[str, Any],
        key: str,
        prefix: str,
        *,
        default: float | None = None,
        positive: bool = False,
    ) -> float:
        """A finite, non-negative number (strictly positive when `positive`)."""
        field = _join(prefix, key)
        value = self.required(table, key, prefix) if default is None else table.get(key, default)
        return self.number_value(value, field, positive=positive)

    def optional_number(
        self, table: Mapping[str, Any], key: str, prefix: str, *, positive: bool = False
    ) -> float | None:
        if key not in table:
            return None
        return self.number_value(table[key], _join(prefix, key), positive=positive)

    def number_value(self, value: object, field: str, *, positive: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(field, f"expected a number, got {_describe(value)}")
        number = float(value)
        if not math.isfinite(number):
            raise self.error(field, f"must be a finite number (got {value})")
        if positive and number <= 0:
            raise self.error(field, f"must be > 0 (got {_show(number)})")
        if number < 0:
            raise self.error(field, f"must be >= 0 (got {_show(number)})")
        return number

    def integer(
        self, table: Mapping[str, Any], key: str, prefix: str, *, default: int | None = None
    ) -> int:
        field = _join(prefix, key)
        value = self.required(table, key, prefix) if default is None else table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(field, f"expected an integer, got {_describe(value)}")
        return value

    def string(
        self, table: Mapping[str, Any], key: str, prefix: str, *, required: bool = True
    ) -> str | None:
        field = _join(prefix, key)
        if key not in table and not required:
            return None
        value = self.required(table, key, prefix)
        if not isinstance(value, str):
            raise self.error(field, f"expected a string, got {_describe(value)}")
        if not value.strip():
            raise self.error(field, "must not be empty")
        return value

    def boolean(self, table: Mapping[str, Any], key: str, prefix: str, *, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.error(_join(prefix, key), f"expected true or false, got {_describe(value)}")
        return value


def unknown_key_message(key: str, allowed: Collection[str]) -> str:
    close = difflib.get_close_matches(key, sorted(allowed), n=1)
    hint = (
        f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(sorted(allowed))}"
    )
    return f"unknown key '{key}'{hint}"


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _describe(value: object) -> str:
    kind = {
        bool: "a boolean",
        str: "a string",
        int: "an integer",
        float: "a number",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)
    return f"{kind} ({value!r})" if not isinstance(value, list | dict) else kind


def _show(number: float) -> str:
    return f"{number:g}"


def parse_site(data: Mapping[str, Any], path: Path | str, text: str) -> SiteConfig:
    """Validate the site sections of a parsed TOML document into a `SiteConfig`.

    Other top-level keys are left to their own parsers.
    """
    reader = FieldReader(path, text)
    site = reader.table(reader.required(data, "site", ""), "site")
    reader.check_keys(site, _SITE_KEYS, "site")
    limits = _parse_limits(reader, site)
    circuits = _parse_circuits(reader, data.get("circuits", []))
    chargers = _parse_chargers(reader, data.get("chargers", []), {c.id for c in circuits})
    name = reader.string(site, "name", "site")
    assert name is not None
    return SiteConfig(
        name=name,
        limits=limits,
        chargers=chargers,
        circuits=circuits,
        worst_base_load_a=_parse_worst_base_load(reader, site, limits.phase_limit_a),
    )


def _parse_limits(reader: FieldReader, site: Mapping[str, Any]) -> SiteLimits:
    power_kw = reader.optional_number(site, "power_limit_kw", "site", positive=True)
    return SiteLimits(
        phase_limit_a=reader.number(site, "limit_a", "site", positive=True),
        power_limit_w=None if power_kw is None else power_kw * 1000.0,
        voltage_v=reader.number(
            site, "voltage_v", "site", default=DEFAULT_VOLTAGE_V, positive=True
        ),
    )


def _parse_worst_base_load(
    reader: FieldReader, site: Mapping[str, Any], limit_a: float
) -> tuple[float, float, float]:
    """One number for every phase, or a list of three (L1, L2, L3)."""
    field = "site.worst_base_load_a"
    value = site.get("worst_base_load_a", 0.0)
    if isinstance(value, list):
        if len(value) != 3:
            raise reader.error(field, f"expected 3 values (L1, L2, L3), got {len(value)}")
        triple = tuple(reader.number_value(v, field) for v in value)
    else:
        one = reader.number_value(value, field)
        triple = (one, one, one)
    for phase, amps in zip(Phase, triple, strict=True):
        if amps > limit_a:
            raise reader.error(
                field, f"{phase.name} {amps:g} A exceeds the site limit_a of {limit_a:g} A"
            )
    return (triple[0], triple[1], triple[2])


def _parse_circuits(reader: FieldReader, value: object) -> tuple[Circuit, ...]:
    circuits: list[Circuit] = []
    for i, table in enumerate(reader.tables(value, "circuits")):
        prefix = f"circuits[{i}]"
        reader.check_keys(table, _CIRCUIT_KEYS, prefix)
        circuit_id = reader.string(table, "id", prefix)
        assert circuit_id is not None
        if any(c.id == circuit_id for c in circuits):
            raise reader.error(f"{prefix}.id", f"duplicate circuit id '{circuit_id}'")
        circuits.append(
            Circuit(
                id=circuit_id,
                limit_a=reader.number(table, "limit_a", prefix, positive=True),
                parent=reader.string(table, "parent", prefix, required=False),
            )
        )
    _check_circuit_tree(reader, circuits)
    return tuple(circuits)


def _check_circuit_tree(reader: FieldReader, circuits: list[Circuit]) -> None:
    parents = {c.id: c.parent for c in circuits}
    for i, circuit in enumerate(circuits):
        field = f"circuits[{i}].parent"
        if circuit.parent is not None and circuit.parent not in parents:
            raise reader.error(field, _unknown_circuit(circuit.parent, parents))
        seen = [circuit.id]
        node = circuit.parent
        while node is not None:
            if node in seen:
                cycle = " -> ".join([*seen, node])
                raise reader.error(field, f"circuits form a cycle: {cycle}")
            seen.append(node)
            node = parents.get(node)


def _parse_chargers(
    reader: FieldReader, value: object, circuit_ids: set[str]
) -> tuple[ChargerConfig, ...]:
    chargers: list[ChargerConfig] = []
    for i, table in enumerate(reader.tables(value, "chargers")):
        prefix = f"chargers[{i}]"
        reader.check_keys(table, _CHARGER_KEYS, prefix)
        charger_id = reader.string(table, "id", prefix)
        assert charger_id is not None
        if any(c.id == charger_id for c in chargers):
            raise reader.error(f"{prefix}.id", f"duplicate charger id '{charger_id}'")
        connectors = _parse_connectors(
            reader, reader.required(table, "connectors", prefix), prefix, charger_id, circuit_ids
        )
        chargers.append(
            ChargerConfig(
                id=charger_id,
                connectors=connectors,
                behind_meter=reader.boolean(table, "behind_meter", prefix, default=True),
                fallback_a=reader.optional_number(table, "fallback_a", prefix),
            )
        )
    return tuple(chargers)


def _parse_connectors(
    reader: FieldReader, value: object, parent: str, charger_id: str, circuit_ids: set[str]
) -> tuple[ConnectorConfig, ...]:
    connectors: list[ConnectorConfig] = []
    tables = reader.tables(value, f"{parent}.connectors")
    if not tables:
        raise reader.error(f"{parent}.connectors", "a charger needs at least one connector")
    for i, table in enumerate(tables):
        prefix = f"{parent}.connectors[{i}]"
        reader.check_keys(table, _CONNECTOR_KEYS, prefix)
        connector_id = reader.integer(table, "connector_id", prefix)
        if connector_id < 1:
            raise reader.error(f"{prefix}.connector_id", f"must be >= 1 (got {connector_id})")
        if any(c.connector_id == connector_id for c in connectors):
            raise reader.error(
                f"{prefix}.connector_id",
                f"duplicate connector_id {connector_id} on charger '{charger_id}'",
            )
        max_a = reader.number(table, "max_current_a", prefix, positive=True)
        min_a = reader.number(table, "min_current_a", prefix, default=DEFAULT_MIN_CURRENT_A)
        if min_a > max_a:
            raise reader.error(
                f"{prefix}.min_current_a",
                f"min_current_a {min_a:g} A is above max_current_a {max_a:g} A",
            )
        circuit = reader.string(table, "circuit", prefix, required=False)
        if circuit is not None and circuit not in circuit_ids:
            raise reader.error(f"{prefix}.circuit", _unknown_circuit(circuit, circuit_ids))
        connectors.append(
            ConnectorConfig(
                charger_id=charger_id,
                connector_id=connector_id,
                phases=_parse_phases(reader, reader.required(table, "phases", prefix), prefix),
                max_current_a=max_a,
                min_current_a=min_a,
                circuit=circuit,
                priority=reader.number(table, "priority", prefix, default=1.0, positive=True),
            )
        )
    return tuple(connectors)


def _parse_phases(reader: FieldReader, value: object, prefix: str) -> tuple[Phase, ...]:
    """`"L1L2L3"`, `"L2L3L1"` (rotated), `"L2"` (1-phase): site phases in connector order."""
    field = f"{prefix}.phases"
    if not isinstance(value, str):
        raise reader.error(
            field, f'expected a string like "L1L2L3" or "L2", got {_describe(value)}'
        )
    tokens = _PHASE_TOKEN.findall(value.replace(" ", "").replace(",", "").upper())
    phases: list[Phase] = []
    for token in tokens:
        if token not in Phase.__members__:
            raise reader.error(field, f"unknown phase '{token}' in '{value}' (expected L1, L2, L3)")
        phase = Phase[token]
        if phase in phases:
            raise reader.error(field, f"phase {token} appears twice in '{value}'")
        phases.append(phase)
    if not phases:
        raise reader.error(field, 'must name at least one phase, e.g. "L1L2L3" or "L2"')
    return tuple(phases)


def _unknown_circuit(name: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    if close:
        return f"unknown circuit '{name}'; did you mean '{close[0]}'?"
    listed = ", ".join(sorted(known)) if known else "none defined in [[circuits]]"
    return f"unknown circuit '{name}' (known: {listed})"
