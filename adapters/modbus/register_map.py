"""Register maps: where one meter model keeps each measurement, loaded from TOML data.

A map is data, not code, so that an installer adds a meter by writing a file. The format
is documented in `adapters/modbus/maps/README.md`; the shipped maps live beside it. A
loaded map holds *wire* addresses (0-based, as sent in the request) and, per register,
one factor that turns the raw number into A, V, W, Wh or Hz.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from adapters.files.errors import InputFileError, toml_line_of
from adapters.modbus.blocks import ReadBlock, plan_blocks
from adapters.modbus.codec import DataType, WordOrder

MAPS_DIR = Path(__file__).parent / "maps"
MAX_REGISTERS_PER_REQUEST = 125


class Quantity(StrEnum):
    CURRENT_L1 = "current_l1"
    CURRENT_L2 = "current_l2"
    CURRENT_L3 = "current_l3"
    VOLTAGE_L1 = "voltage_l1"
    VOLTAGE_L2 = "voltage_l2"
    VOLTAGE_L3 = "voltage_l3"
    POWER_L1 = "power_l1"
    POWER_L2 = "power_l2"
    POWER_L3 = "power_l3"
    TOTAL_POWER = "total_power"
    ENERGY_IMPORT = "energy_import"
    FREQUENCY = "frequency"

    @property
    def phase(self) -> int | None:
        """1, 2 or 3 for a per-phase quantity, else None."""
        return int(self.value[-1]) if self.value[-3:-1] == "_l" else None

    @property
    def kind(self) -> str:
        """`current`, `voltage`, `power`, `energy` or `frequency`."""
        if self is Quantity.TOTAL_POWER:
            return "power"
        return self.value.split("_")[0]


UNIT_FACTORS: dict[str, dict[str, float]] = {
    "current": {"A": 1.0, "mA": 1e-3},
    "voltage": {"V": 1.0, "kV": 1e3},
    "power": {"W": 1.0, "kW": 1e3, "MW": 1e6},
    "energy": {"Wh": 1.0, "kWh": 1e3, "MWh": 1e6},
    "frequency": {"Hz": 1.0},
}
"""Units a map may declare per quantity kind, with the factor into the product's unit."""


class Measures(StrEnum):
    GRID = "grid"
    """A meter of the grid connection or a circuit: import positive."""
    PRODUCTION = "production"
    """A PV inverter's own measurement of what it produces: positive while producing.
    Read only by a meter with `role = "pv"`."""


class CurrentSign(StrEnum):
    SIGNED = "signed"
    """The meter's current registers carry the direction."""
    FROM_POWER = "from_power"
    """The meter gives magnitudes; the direction is that of the phase's active power."""


class UnknownMapError(LookupError):
    """No shipped map has this name and it is not a path to a map file."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown meter map {self.name!r}; shipped maps: {', '.join(shipped_map_names())}"


@dataclass(frozen=True)
class RegisterSpec:
    """One measurement: where it is and how to turn its words into a product unit."""

    quantity: Quantity
    address: int
    """Wire address (0-based) of the first register."""
    data_type: DataType
    word_order: WordOrder
    factor: float
    """Raw number × factor = value in A, V, W, Wh or Hz (scale and unit together)."""
    scale_factor_address: int | None = None
    """Wire address of an int16 power-of-ten exponent read with the value (SunSpec)."""
    not_available: frozenset[int] = frozenset()
    """Raw bit patterns (unsigned, most-significant word first) meaning "no value"."""

    @property
    def words(self) -> int:
        return self.data_type.words


@dataclass(frozen=True)
class SunSpecLayout:
    """Where to look for a SunSpec meter model and how many phases each model has."""

    bases: tuple[int, ...]
    phases_by_model: dict[int, int]


@dataclass(frozen=True)
class RegisterMap:
    name: str
    description: str
    function_code: int
    registers: tuple[RegisterSpec, ...]
    current_sign: CurrentSign
    max_gap: int
    max_block: int
    scale_factor_not_available: frozenset[int]
    sunspec: SunSpecLayout | None = None
    """Set for SunSpec maps: register addresses are then offsets from the model's ID."""
    measures: Measures = Measures.GRID

    def spec(self, quantity: Quantity) -> RegisterSpec | None:
        return next((r for r in self.registers if r.quantity is quantity), None)

    @property
    def quantities(self) -> frozenset[Quantity]:
        return frozenset(r.quantity for r in self.registers)

    def blocks(self) -> tuple[ReadBlock, ...]:
        """The read requests that fetch every register (values and scale factors)."""
        spans = [(r.address, r.words) for r in self.registers]
        spans += [(a, 1) for a in self.scale_factor_addresses]
        return plan_blocks(spans, self.max_gap, self.max_block)

    @property
    def scale_factor_addresses(self) -> tuple[int, ...]:
        found = {r.scale_factor_address for r in self.registers}
        return tuple(sorted(a for a in found if a is not None))

    def at_sunspec_model(self, model_address: int, model_id: int) -> RegisterMap:
        """This SunSpec map placed at a discovered model: absolute addresses, and only
        the phases the model has (model 201 is single-phase, 202 split-phase)."""
        if self.sunspec is None:
            raise ValueError(f"map {self.name} is not a SunSpec map")
        phases = self.sunspec.phases_by_model[model_id]
        registers = tuple(
            replace(
                r,
                address=model_address + r.address,
                scale_factor_address=None
                if r.scale_factor_address is None
                else model_address + r.scale_factor_address,
            )
            for r in self.registers
            if r.quantity.phase is None or r.quantity.phase <= phases
        )
        return replace(
            self,
            name=f"{self.name} (model {model_id} at {model_address})",
            registers=registers,
            sunspec=None,
        )


def shipped_map_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in MAPS_DIR.glob("*.toml")))


def map_path(name_or_path: str, relative_to: Path | None = None) -> Path:
    """The file of a shipped map name, or of a path to a map file (relative to the
    config file's folder). Raises UnknownMapError."""
    shipped = MAPS_DIR / f"{name_or_path}.toml"
    if "/" not in name_or_path and "\\" not in name_or_path and shipped.is_file():
        return shipped
    candidate = Path(name_or_path)
    if not candidate.is_absolute() and relative_to is not None:
        candidate = relative_to / candidate
    if candidate.suffix == ".toml" and candidate.is_file():
        return candidate
    raise UnknownMapError(name_or_path)


def load_map(name_or_path: str, relative_to: Path | None = None) -> RegisterMap:
    """Load and check a map. Raises UnknownMapError, or InputFileError naming the map
    file, line and field."""
    path = map_path(name_or_path, relative_to)
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputFileError(path, f"not valid TOML: {error}") from error
    return _MapParser(path, text).parse(data)


_TOP_KEYS = {
    "name",
    "description",
    "function_code",
    "address_base",
    "word_order",
    "type",
    "current_sign",
    "max_gap",
    "max_block",
    "not_available",
    "registers",
    "sunspec",
    "measures",
}
_REGISTER_KEYS = {"address", "type", "word_order", "scale", "unit", "scale_factor"}
_ADDRESS_BASES = {0: None, 1: None, 30001: 4, 40001: 3}
"""Allowed address bases, with the function code a 3xxxx/4xxxx numbering implies."""


class _MapParser:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def error(self, field: str, message: str) -> InputFileError:
        return InputFileError(self.path, message, line=toml_line_of(self.text, field), field=field)

    def choice(
        self,
        data: dict[str, Any],
        key: str,
        options: type[StrEnum],
        default: str,
        field: str | None = None,
    ) -> Any:
        value = data.get(key, default)
        try:
            return options(value)
        except ValueError:
            allowed = ", ".join(o.value for o in options)
            message = f"{key} must be one of {allowed} (got {value!r})"
            raise self.error(field or key, message) from None

    def integer(self, data: dict[str, Any], key: str, field: str, low: int, high: int) -> int:
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(field, f"must be an integer from {low} to {high} (got {value!r})")
        return value

    def parse(self, data: dict[str, Any]) -> RegisterMap:
        for key in data:
            if key not in _TOP_KEYS:
                raise self.error(key, "unknown key")
        for key in ("name", "function_code", "registers"):
            if key not in data:
                raise self.error(key, "missing")
        function_code = self.integer(data, "function_code", "function_code", 3, 4)
        base = data.get("address_base", 0)
        if base not in _ADDRESS_BASES:
            raise self.error("address_base", f"must be 0, 1, 30001 or 40001 (got {base!r})")
        implied = _ADDRESS_BASES[base]
        if implied is not None and implied != function_code:
            raise self.error("address_base", f"{base}-style numbers mean function code {implied}")
        not_available = self.sentinels(data.get("not_available", {}))
        sunspec = self.sunspec(data["sunspec"]) if "sunspec" in data else None
        defaults = {
            "type": self.choice(data, "type", DataType, "float32"),
            "word_order": self.choice(data, "word_order", WordOrder, "big"),
        }
        if not isinstance(data["registers"], dict) or not data["registers"]:
            raise self.error("registers", "must be a table of quantities")
        registers = tuple(
            self.register(name, entry, base, defaults, not_available)
            for name, entry in data["registers"].items()
        )
        max_gap = self.integer(data, "max_gap", "max_gap", 0, 124) if "max_gap" in data else 0
        max_block = MAX_REGISTERS_PER_REQUEST
        if "max_block" in data:
            max_block = self.integer(data, "max_block", "max_block", 1, 125)
        register_map = RegisterMap(
            name=str(data["name"]),
            description=str(data.get("description", "")),
            function_code=function_code,
            registers=registers,
            current_sign=self.choice(data, "current_sign", CurrentSign, "signed"),
            max_gap=max_gap,
            max_block=max_block,
            scale_factor_not_available=frozenset(not_available.get(DataType.INT16, ())),
            sunspec=sunspec,
            measures=self.choice(data, "measures", Measures, "grid"),
        )
        self.check_layout(register_map)
        return register_map

    def sentinels(self, table: Any) -> dict[DataType, frozenset[int]]:
        if not isinstance(table, dict):
            raise self.error("not_available", "must be a table of type = [raw values]")
        result: dict[DataType, frozenset[int]] = {}
        for type_name, values in table.items():
            field = f"not_available.{type_name}"
            try:
                data_type = DataType(type_name)
            except ValueError:
                raise self.error(field, "not a data type") from None
            if data_type.is_float:
                raise self.error(field, "NaN and infinity are always not available for floats")
            limit = 1 << (16 * data_type.words)
            if not isinstance(values, list) or not all(
                isinstance(v, int) and 0 <= v < limit for v in values
            ):
                raise self.error(field, f"must be a list of raw values below {limit:#x}")
            result[data_type] = frozenset(values)
        return result

    def sunspec(self, table: Any) -> SunSpecLayout:
        if not isinstance(table, dict) or "bases" not in table or "models" not in table:
            raise self.error("sunspec", "needs bases = [...] and a [sunspec.models] table")
        bases = table["bases"]
        if not isinstance(bases, list) or not all(
            isinstance(b, int) and 0 <= b < 65535 for b in bases
        ):
            raise self.error("sunspec.bases", "must be a list of wire addresses")
        models: dict[int, int] = {}
        for key, phases in table["models"].items():
            if not key.isdigit() or phases not in (1, 2, 3):
                raise self.error(f"sunspec.models.{key}", "model id = number of phases (1-3)")
            models[int(key)] = phases
        return SunSpecLayout(bases=tuple(bases), phases_by_model=models)

    def register(
        self,
        name: str,
        entry: Any,
        base: int,
        defaults: dict[str, Any],
        not_available: dict[DataType, frozenset[int]],
    ) -> RegisterSpec:
        field = f"registers.{name}"
        try:
            quantity = Quantity(name)
        except ValueError:
            known = ", ".join(q.value for q in Quantity)
            raise self.error(field, f"unknown quantity; known: {known}") from None
        if not isinstance(entry, dict) or "address" not in entry:
            raise self.error(field, "must be a table with at least an address")
        for key in entry:
            if key not in _REGISTER_KEYS:
                raise self.error(field, f"unknown key {key!r}")
        wire = self.wire_address(entry, "address", field, base)
        data_type = self.choice({**defaults, **entry}, "type", DataType, "float32", field)
        word_order = self.choice({**defaults, **entry}, "word_order", WordOrder, "big", field)
        scale = entry.get("scale", 1)
        if (
            isinstance(scale, bool)
            or not isinstance(scale, int | float)
            or scale == 0
            or not math.isfinite(scale)
        ):
            raise self.error(field, f"scale must be a non-zero number (got {scale!r})")
        units = UNIT_FACTORS[quantity.kind]
        unit = entry.get("unit", next(iter(units)))
        if unit not in units:
            raise self.error(field, f"unit for {quantity.kind} must be one of {', '.join(units)}")
        scale_factor = None
        if "scale_factor" in entry:
            scale_factor = self.wire_address(entry, "scale_factor", field, base)
        return RegisterSpec(
            quantity=quantity,
            address=wire,
            data_type=data_type,
            word_order=word_order,
            factor=float(scale) * units[unit],
            scale_factor_address=scale_factor,
            not_available=not_available.get(data_type, frozenset()),
        )

    def wire_address(self, entry: dict[str, Any], key: str, field: str, base: int) -> int:
        number = entry[key]
        if isinstance(number, bool) or not isinstance(number, int) or number < base:
            raise self.error(field, f"{key} must be an integer ≥ {base} (got {number!r})")
        wire: int = number - base
        if wire > 0xFFFF:
            raise self.error(field, f"{key} {number} is beyond the Modbus address space")
        return wire

    def check_layout(self, register_map: RegisterMap) -> None:
        taken: dict[int, str] = {}
        for spec in register_map.registers:
            for address in range(spec.address, spec.address + spec.words):
                if address in taken:
                    raise self.error(
                        f"registers.{spec.quantity}",
                        f"overlaps {taken[address]} at wire address {address}",
                    )
                taken[address] = spec.quantity.value
        blocks = register_map.blocks()
        for spec in register_map.registers:
            if spec.scale_factor_address is None:
                continue
            together = any(
                b.holds(spec.address, spec.words) and b.holds(spec.scale_factor_address, 1)
                for b in blocks
            )
            if not together:
                raise self.error(
                    f"registers.{spec.quantity}",
                    "value and scale factor must be read in one request: raise max_gap",
                )
