"""The site part of a config file: `[site]`, `[[circuits]]`, `[[chargers]]`.

The live config (`adapters.files.config`) and a replay scenario's `site.toml` share this
schema, documented field by field in `examples/site.toml`. `FieldReader` reads typed
values out of a parsed TOML document; every accessor takes the dotted field path it reads
(`chargers[1].connectors[0].phases`) so an error names the file, the line and the field.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from adapters.files.errors import InputFileError, Problems, toml_line_of
from ems.site import ChargerConfig, ChargingMode, ConnectorConfig, SiteConfig
from optimizer.problem import DEFAULT_MIN_CURRENT_A, DEFAULT_VOLTAGE_V, Circuit, Phase, SiteLimits

SITE_SECTIONS = ("site", "circuits", "chargers")
"""The top-level keys `parse_site` reads."""

_SITE_KEYS = (
    "name",
    "limit_a",
    "power_limit_kw",
    "voltage_v",
    "worst_base_load_a",
    "pv_peak_a",
    "grid_caps_file",
)
_CIRCUIT_KEYS = ("id", "limit_a", "parent")
_CHARGER_KEYS = ("id", "behind_meter", "fallback_a", "mode", "connectors")
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
        """Reject every key the schema does not know, suggesting the closest known one.

        Parsers check the keys of a table before its values and stop at an unknown one:
        a misspelt key would only be reported again as a missing one.
        """
        problems = Problems()
        for key in table:
            if key not in allowed:
                problems.add(self.error(_join(prefix, key), unknown_key_message(key, allowed)))
        problems.raise_any()

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

    def optional_string(self, table: Mapping[str, Any], key: str, prefix: str) -> str | None:
        return self.string(table, key, prefix) if key in table else None

    def string(self, table: Mapping[str, Any], key: str, prefix: str) -> str:
        """A required, non-blank string."""
        field = _join(prefix, key)
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
    """Validate the site sections of a parsed TOML document into a `SiteConfig`, reporting
    every mistake in them at once.

    Other top-level keys are left to their own parsers.
    """
    reader = FieldReader(path, text)
    problems = Problems()
    declared = declared_circuit_ids(data)
    site = problems.attempt(lambda: _parse_site_table(reader, data), None)
    circuits = problems.attempt(
        lambda: _parse_circuits(reader, data.get("circuits", []), declared), ()
    )
    chargers = problems.attempt(
        lambda: _parse_chargers(reader, data.get("chargers", []), declared), ()
    )
    problems.raise_any()
    assert site is not None, "raise_any raised otherwise"
    return dataclasses.replace(site, circuits=circuits, chargers=chargers)


def declared_circuit_ids(data: Mapping[str, Any]) -> set[str]:
    """The ids of the circuits a parsed document names, whether or not they are valid: what
    a reference to a circuit is checked against, so that a circuit in error is reported
    once, not again at everything on it."""
    tables = data.get("circuits")
    if not isinstance(tables, list):
        return set()
    return {t["id"] for t in tables if isinstance(t, dict) and isinstance(t.get("id"), str)}


def _parse_site_table(reader: FieldReader, data: Mapping[str, Any]) -> SiteConfig:
    """`[site]`, without circuits and chargers."""
    site = reader.table(reader.required(data, "site", ""), "site")
    reader.check_keys(site, _SITE_KEYS, "site")
    problems = Problems()
    name = problems.attempt(lambda: reader.string(site, "name", "site"), "")
    # An unknown limit stands at infinity: nothing is reported as above it.
    limit_a = problems.attempt(
        lambda: reader.number(site, "limit_a", "site", positive=True), math.inf
    )
    power_kw = problems.attempt(
        lambda: reader.optional_number(site, "power_limit_kw", "site", positive=True), None
    )
    voltage_v = problems.attempt(
        lambda: reader.number(site, "voltage_v", "site", default=DEFAULT_VOLTAGE_V, positive=True),
        DEFAULT_VOLTAGE_V,
    )
    worst_a = problems.attempt(
        lambda: _parse_worst_base_load(reader, site, limit_a), (0.0, 0.0, 0.0)
    )
    pv_a = problems.attempt(lambda: _parse_triple(reader, site, "pv_peak_a"), (0.0, 0.0, 0.0))
    problems.raise_any()
    limits = SiteLimits(
        phase_limit_a=limit_a,
        power_limit_w=None if power_kw is None else power_kw * 1000.0,
        voltage_v=voltage_v,
    )
    return SiteConfig(
        name=name,
        limits=limits,
        chargers=(),
        circuits=(),
        worst_base_load_a=worst_a,
        pv_peak_a=pv_a,
    )


def _parse_worst_base_load(
    reader: FieldReader, site: Mapping[str, Any], limit_a: float
) -> tuple[float, float, float]:
    """One number for every phase, or a list of three (L1, L2, L3)."""
    field = "site.worst_base_load_a"
    triple = _parse_triple(reader, site, "worst_base_load_a")
    for phase, amps in zip(Phase, triple, strict=True):
        if amps > limit_a:
            raise reader.error(
                field, f"{phase.name} {amps:g} A exceeds the site limit_a of {limit_a:g} A"
            )
    return triple


def _parse_triple(
    reader: FieldReader, site: Mapping[str, Any], key: str
) -> tuple[float, float, float]:
    """`[site] key`: amperes, one number for every phase, or a list of three (L1, L2, L3);
    0 when absent."""
    field = f"site.{key}"
    value = site.get(key, 0.0)
    if isinstance(value, list):
        if len(value) != 3:
            raise reader.error(field, f"expected 3 values (L1, L2, L3), got {len(value)}")
        triple = [reader.number_value(v, field) for v in value]
    else:
        triple = [reader.number_value(value, field)] * 3
    return (triple[0], triple[1], triple[2])


def _parse_circuits(reader: FieldReader, value: object, declared: set[str]) -> tuple[Circuit, ...]:
    circuits: list[Circuit] = []
    problems = Problems()
    seen: set[str] = set()
    for i, table in enumerate(reader.tables(value, "circuits")):
        with problems.collecting():
            circuits.append(_parse_circuit(reader, table, f"circuits[{i}]", seen))
    with problems.collecting():
        _check_circuit_tree(reader, circuits, declared)
    problems.raise_any()
    return tuple(circuits)


def _parse_circuit(
    reader: FieldReader, table: Mapping[str, Any], prefix: str, seen: set[str]
) -> Circuit:
    reader.check_keys(table, _CIRCUIT_KEYS, prefix)
    problems = Problems()
    circuit_id = problems.attempt(lambda: _unique_id(reader, table, prefix, seen, "circuit"), "")
    limit_a = problems.attempt(lambda: reader.number(table, "limit_a", prefix, positive=True), 0.0)
    parent = problems.attempt(lambda: reader.optional_string(table, "parent", prefix), None)
    problems.raise_any()
    return Circuit(id=circuit_id, limit_a=limit_a, parent=parent)


def _unique_id(
    reader: FieldReader, table: Mapping[str, Any], prefix: str, seen: set[str], kind: str
) -> str:
    """The `id` of a table, which no earlier table of its kind (`seen`) has."""
    value = reader.string(table, "id", prefix)
    if value in seen:
        raise reader.error(f"{prefix}.id", f"duplicate {kind} id '{value}'")
    seen.add(value)
    return value


def _check_circuit_tree(reader: FieldReader, circuits: list[Circuit], declared: set[str]) -> None:
    """Every parent exists and no circuit hangs below itself."""
    problems = Problems()
    parents = {c.id: c.parent for c in circuits}
    for i, circuit in enumerate(circuits):
        field = f"circuits[{i}].parent"
        if circuit.parent is not None and circuit.parent not in declared:
            problems.add(reader.error(field, _unknown_circuit(circuit.parent, declared)))
            continue
        seen = [circuit.id]
        node = circuit.parent
        while node is not None and node not in seen:
            seen.append(node)
            node = parents.get(node)
        if node is not None:
            cycle = " -> ".join([*seen, node])
            problems.add(reader.error(field, f"circuits form a cycle: {cycle}"))
    problems.raise_any()


def _parse_chargers(
    reader: FieldReader, value: object, circuit_ids: set[str]
) -> tuple[ChargerConfig, ...]:
    chargers: list[ChargerConfig] = []
    problems = Problems()
    seen: set[str] = set()
    for i, table in enumerate(reader.tables(value, "chargers")):
        with problems.collecting():
            chargers.append(_parse_charger(reader, table, f"chargers[{i}]", seen, circuit_ids))
    problems.raise_any()
    return tuple(chargers)


def _parse_charger(
    reader: FieldReader,
    table: Mapping[str, Any],
    prefix: str,
    seen: set[str],
    circuit_ids: set[str],
) -> ChargerConfig:
    reader.check_keys(table, _CHARGER_KEYS, prefix)
    problems = Problems()
    charger_id = problems.attempt(lambda: _unique_id(reader, table, prefix, seen, "charger"), "")
    connectors = problems.attempt(
        lambda: _parse_connectors(
            reader, reader.required(table, "connectors", prefix), prefix, charger_id, circuit_ids
        ),
        (),
    )
    behind_meter = problems.attempt(
        lambda: reader.boolean(table, "behind_meter", prefix, default=True), True
    )
    fallback_a = problems.attempt(lambda: reader.optional_number(table, "fallback_a", prefix), None)
    mode = problems.attempt(lambda: _mode(reader, table, prefix), ChargingMode.PLANNED)
    problems.raise_any()
    return ChargerConfig(
        id=charger_id,
        connectors=connectors,
        behind_meter=behind_meter,
        fallback_a=fallback_a,
        mode=mode,
    )


def _mode(reader: FieldReader, table: Mapping[str, Any], prefix: str) -> ChargingMode:
    if "mode" not in table:
        return ChargingMode.PLANNED
    return _mode_named(reader, table, "mode", prefix)


def _mode_named(
    reader: FieldReader, table: Mapping[str, Any], key: str, prefix: str
) -> ChargingMode:
    name = reader.string(table, key, prefix)
    try:
        return ChargingMode(name)
    except ValueError:
        known = ", ".join(f'"{m.value}"' for m in ChargingMode)
        raise reader.error(_join(prefix, key), f"unknown mode {name!r}; use {known}") from None


TOKEN_MODES_SECTION = "id_token_modes"


def parse_token_modes(reader: FieldReader, value: object) -> tuple[tuple[str, ChargingMode], ...]:
    """`[id_token_modes]`: the default mode of the sessions each id token starts, as
    `"04A2B3C4" = "solar"` (the token as the charger sends it, matched exactly)."""
    if value is None:
        return ()
    table = reader.table(value, TOKEN_MODES_SECTION)
    problems = Problems()
    modes: list[tuple[str, ChargingMode]] = []
    for token in table:
        with problems.collecting():
            modes.append((token, _mode_named(reader, table, token, TOKEN_MODES_SECTION)))
    problems.raise_any()
    return tuple(modes)


def _parse_connectors(
    reader: FieldReader, value: object, parent: str, charger_id: str, circuit_ids: set[str]
) -> tuple[ConnectorConfig, ...]:
    connectors: list[ConnectorConfig] = []
    tables = reader.tables(value, f"{parent}.connectors")
    if not tables:
        raise reader.error(f"{parent}.connectors", "a charger needs at least one connector")
    problems = Problems()
    seen: set[int] = set()
    for i, table in enumerate(tables):
        prefix = f"{parent}.connectors[{i}]"
        with problems.collecting():
            connectors.append(
                _parse_connector(reader, table, prefix, charger_id, circuit_ids, seen)
            )
    problems.raise_any()
    return tuple(connectors)


def _parse_connector(
    reader: FieldReader,
    table: Mapping[str, Any],
    prefix: str,
    charger_id: str,
    circuit_ids: set[str],
    seen: set[int],
) -> ConnectorConfig:
    reader.check_keys(table, _CONNECTOR_KEYS, prefix)
    problems = Problems()
    connector_id = problems.attempt(
        lambda: _connector_id(reader, table, prefix, charger_id, seen), 0
    )
    phases = problems.attempt(
        lambda: _parse_phases(reader, reader.required(table, "phases", prefix), prefix), ()
    )
    # An unknown maximum stands at infinity: no minimum is reported as above it.
    max_a = problems.attempt(
        lambda: reader.number(table, "max_current_a", prefix, positive=True), math.inf
    )
    min_a = problems.attempt(lambda: _min_current(reader, table, prefix, max_a), 0.0)
    circuit = problems.attempt(lambda: _circuit_of(reader, table, prefix, circuit_ids), None)
    priority = problems.attempt(
        lambda: reader.number(table, "priority", prefix, default=1.0, positive=True), 1.0
    )
    problems.raise_any()
    return ConnectorConfig(
        charger_id=charger_id,
        connector_id=connector_id,
        phases=phases,
        max_current_a=max_a,
        min_current_a=min_a,
        circuit=circuit,
        priority=priority,
    )


def _connector_id(
    reader: FieldReader, table: Mapping[str, Any], prefix: str, charger_id: str, seen: set[int]
) -> int:
    connector_id = reader.integer(table, "connector_id", prefix)
    field = f"{prefix}.connector_id"
    if connector_id < 1:
        raise reader.error(field, f"must be >= 1 (got {connector_id})")
    if connector_id in seen:
        raise reader.error(
            field, f"duplicate connector_id {connector_id} on charger '{charger_id}'"
        )
    seen.add(connector_id)
    return connector_id


def _min_current(reader: FieldReader, table: Mapping[str, Any], prefix: str, max_a: float) -> float:
    min_a = reader.number(table, "min_current_a", prefix, default=DEFAULT_MIN_CURRENT_A)
    if min_a > max_a:
        raise reader.error(
            f"{prefix}.min_current_a",
            f"min_current_a {min_a:g} A is above max_current_a {max_a:g} A",
        )
    return min_a


def _circuit_of(
    reader: FieldReader, table: Mapping[str, Any], prefix: str, circuit_ids: set[str]
) -> str | None:
    circuit = reader.optional_string(table, "circuit", prefix)
    if circuit is not None and circuit not in circuit_ids:
        raise reader.error(f"{prefix}.circuit", _unknown_circuit(circuit, circuit_ids))
    return circuit


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
