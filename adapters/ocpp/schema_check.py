"""A fast yes/no check of a payload against an OCPP JSON schema, compiled once per schema.

`jsonschema` walks the schema for every payload it validates: at a thousand chargers that
was a fifth of the event loop's time (issue 18). `compile_check` turns a schema into nested
closures once; a payload they pass is valid, and only a payload they fail goes through
`jsonschema` again, which says what is wrong, so every CALLERROR stays as it was.

The closures know the keywords the `ocpp` package's schemas use and nothing more: for a
schema with any other keyword (a `uri` format, say) there is no compiled check, and
`jsonschema` alone decides. Their rules are those of `frames.py`: an integer is one the
store can hold, `date-time` is what `parse_wire` reads, unknown properties are tolerated,
and `multipleOf` is checked on the decimal a number is written as (the schemas with it are
exactly the 1.6 ones `frames` checks with decimals).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

Check = Callable[[Any], bool]

_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1
_IGNORED = frozenset(
    {
        "$schema",
        "$id",
        "id",
        "title",
        "description",
        "comment",
        "javaType",
        "tsEnumNames",
        "default",
        "definitions",
        # Unknown properties are tolerated (see `frames.schema_violation`), and with an
        # `items` schema (never a list of them here) `additionalItems` has no effect.
        "additionalProperties",
        "additionalItems",
    }
)


class _Unsupported(Exception):
    pass


def compile_check(
    schema: Mapping[str, Any], is_date_time: Callable[[object], bool]
) -> Check | None:
    """A check that passes exactly the payloads valid under `schema`, or None when the
    schema uses a keyword this module does not compile."""
    try:
        return _compile(schema, schema, is_date_time)
    except _Unsupported:
        return None


def _compile(
    node: Mapping[str, Any], root: Mapping[str, Any], is_date_time: Callable[[object], bool]
) -> Check:
    if "$ref" in node:
        if set(node) - _IGNORED != {"$ref"}:
            raise _Unsupported("$ref beside other keywords")
        return _compile(_resolve(node["$ref"], root), root, is_date_time)
    checks: list[Check] = []
    for keyword, value in node.items():
        if keyword in _IGNORED:
            continue
        checks.append(_keyword(keyword, value, root, is_date_time))
    if len(checks) == 1:
        return checks[0]
    return _all_of(tuple(checks))


def _all_of(checks: tuple[Check, ...]) -> Check:
    def check(instance: Any) -> bool:
        # A loop, not `all()` over a generator: this runs for every value of every
        # payload, and the generator costs twice as much.
        for each in checks:  # noqa: SIM110
            if not each(instance):
                return False
        return True

    return check


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    prefix = "#/definitions/"
    if not ref.startswith(prefix) or ref[len(prefix) :] not in root.get("definitions", {}):
        raise _Unsupported(ref)
    definition: Mapping[str, Any] = root["definitions"][ref[len(prefix) :]]
    return definition


def _keyword(
    keyword: str, value: Any, root: Mapping[str, Any], is_date_time: Callable[[object], bool]
) -> Check:
    if keyword == "type":
        return _type(value)
    if keyword == "properties":
        return _properties({name: _compile(sub, root, is_date_time) for name, sub in value.items()})
    if keyword == "items" and isinstance(value, Mapping):
        return _items(_compile(value, root, is_date_time))
    if keyword == "required":
        names = frozenset(value)
        return lambda x: not isinstance(x, dict) or names <= x.keys()
    if keyword == "enum" and all(isinstance(v, str) for v in value):
        allowed = frozenset(value)
        return lambda x: isinstance(x, str) and x in allowed
    if keyword == "maxLength":
        return lambda x: not isinstance(x, str) or len(x) <= value
    if keyword == "minItems":
        return lambda x: not isinstance(x, list) or len(x) >= value
    if keyword == "maxItems":
        return lambda x: not isinstance(x, list) or len(x) <= value
    if keyword == "minimum":
        return lambda x: not _is_number(x) or x >= value
    if keyword == "maximum":
        return lambda x: not _is_number(x) or x <= value
    if keyword == "format" and value == "date-time":
        return is_date_time
    if keyword == "multipleOf":
        return _multiple_of(Decimal(str(value)))
    raise _Unsupported(keyword)


def _properties(compiled: dict[str, Check]) -> Check:
    def check(instance: Any) -> bool:
        if not isinstance(instance, dict):
            return True
        for name, value in instance.items():
            sub = compiled.get(name)
            if sub is not None and not sub(value):
                return False
        return True

    return check


def _items(item: Check) -> Check:
    def check(instance: Any) -> bool:
        if not isinstance(instance, list):
            return True
        for value in instance:  # noqa: SIM110 (see `_all_of`)
            if not item(value):
                return False
        return True

    return check


def _multiple_of(step: Decimal) -> Check:
    """As the 1.6 schemas are checked (`frames._DECIMAL_SCHEMAS`): on the decimal the
    number is written as, so 21.4 is a multiple of 0.1 (the float 21.4 is not)."""

    def check(instance: Any) -> bool:
        if not _is_number(instance):
            return True
        written = Decimal(repr(instance)) if isinstance(instance, float) else Decimal(instance)
        return written % step == 0

    return check


def _is_number(instance: object) -> bool:
    return isinstance(instance, int | float) and not isinstance(instance, bool)


def is_stored_int(instance: object) -> bool:
    """An integer the store can hold (64 bits); see `frames._is_stored_int`."""
    return (
        isinstance(instance, int)
        and not isinstance(instance, bool)
        and _INT_MIN <= instance <= _INT_MAX
    )


_TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "integer": is_stored_int,
    "number": _is_number,
}


def _type(value: Any) -> Check:
    if not isinstance(value, str) or value not in _TYPES:
        raise _Unsupported(f"type {value!r}")
    return _TYPES[value]
