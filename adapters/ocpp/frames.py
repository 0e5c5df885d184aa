"""OCPP-J frames: parsing what a charger sent, and naming errors per protocol version.

Everything a charger can get wrong in a frame ends here as a `FrameError` that says which
CALLERROR to answer with; nothing raises past this module. That includes a frame nested
deeper than any OCPP message (`MAX_NESTING`): it is refused here, so no code behind this
module recurses through it (and no traceback the size of the recursion reaches the log).
"""

from __future__ import annotations

import decimal
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from typing import Any, TypeGuard

from jsonschema import Draft4Validator, FormatChecker, TypeChecker, validators
from jsonschema.exceptions import ValidationError as SchemaError
from ocpp.charge_point import camel_to_snake_case, snake_to_camel_case
from ocpp.messages import get_validator

from adapters.ocpp.schema_check import Check, compile_check, is_stored_int
from adapters.ocpp.timestamps import parse_wire

MAX_MESSAGE_ID_LENGTH = 36
MAX_NESTING = 64
"""Deepest nesting of arrays and objects a frame may have (the frame's own array is level
1). The deepest OCPP payloads nest about a dozen levels."""
MAX_DESCRIPTION_LENGTH = 200
"""Longest error description we send or log: a description quotes the offending value,
which can be as long as the frame."""
UNREADABLE_MESSAGE_ID = "-1"
"""The message id of a CALLERROR answering a frame whose own id could not be read."""

CALL, CALL_RESULT, CALL_ERROR = 2, 3, 4


class ErrorKind(StrEnum):
    FORMAT = "format"
    OCCURRENCE = "occurrence"
    TYPE = "type"
    PROPERTY = "property"
    PROTOCOL = "protocol"
    NOT_IMPLEMENTED = "not_implemented"
    NOT_SUPPORTED = "not_supported"
    INTERNAL = "internal"
    SECURITY = "security"
    GENERIC = "generic"
    RPC_FRAMEWORK = "rpc_framework"
    MESSAGE_TYPE_NOT_SUPPORTED = "message_type_not_supported"


_COMMON_CODES = {
    ErrorKind.TYPE: "TypeConstraintViolation",
    ErrorKind.PROPERTY: "PropertyConstraintViolation",
    ErrorKind.PROTOCOL: "ProtocolError",
    ErrorKind.NOT_IMPLEMENTED: "NotImplemented",
    ErrorKind.NOT_SUPPORTED: "NotSupported",
    ErrorKind.INTERNAL: "InternalError",
    ErrorKind.SECURITY: "SecurityError",
    ErrorKind.GENERIC: "GenericError",
}

ERROR_CODES: dict[str, dict[ErrorKind, str]] = {
    # OCPP-J 1.6 spells these as printed in its table (errata 5.1/5.2 keep the typos) and
    # has no code for a broken RPC frame.
    "1.6": {
        **_COMMON_CODES,
        ErrorKind.FORMAT: "FormationViolation",
        ErrorKind.OCCURRENCE: "OccurenceConstraintViolation",
        ErrorKind.RPC_FRAMEWORK: "FormationViolation",
        ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED: "FormationViolation",
    },
    "2.0.1": {
        **_COMMON_CODES,
        ErrorKind.FORMAT: "FormatViolation",
        ErrorKind.OCCURRENCE: "OccurrenceConstraintViolation",
        ErrorKind.RPC_FRAMEWORK: "RpcFrameworkError",
        ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED: "MessageTypeNotSupported",
    },
}


class FrameError(Exception):
    """A CALL (or a frame) that must be answered with a CALLERROR."""

    def __init__(self, kind: ErrorKind, description: str, message_id: str | None = None):
        super().__init__(description)
        self.kind = kind
        self.description = description
        self.message_id = message_id or UNREADABLE_MESSAGE_ID


@dataclass(frozen=True, slots=True)
class IncomingCall:
    message_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class IncomingResult:
    message_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class IncomingError:
    message_id: str
    error_code: str
    description: str
    details: Any


Frame = IncomingCall | IncomingResult | IncomingError

_ID_IN_BROKEN_JSON = re.compile(r'^\s*\[\s*[234]\s*,\s*"([^"\\]{1,36})"')


def parse_frame(raw: str | bytes) -> Frame:
    """Parse one WebSocket message; raise `FrameError` for anything that is not OCPP-J."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise FrameError(
            ErrorKind.RPC_FRAMEWORK, "Message is not valid JSON", _id_in_broken(raw)
        ) from None
    except RecursionError:  # the parser gives up on deep nesting (about 1,000 levels)
        raise FrameError(
            ErrorKind.RPC_FRAMEWORK,
            f"Message is nested deeper than {MAX_NESTING} levels",
            _id_in_broken(raw),
        ) from None
    if _nested_deeper(raw, data, MAX_NESTING):
        raise _too_deep(data)
    if not isinstance(data, list) or not data:
        raise FrameError(ErrorKind.RPC_FRAMEWORK, "Message is not a JSON array")
    type_id = data[0]
    message_id = data[1] if len(data) > 1 else None
    if not isinstance(message_id, str) or not message_id:
        raise FrameError(ErrorKind.RPC_FRAMEWORK, "MessageId is missing or not a string")
    if len(message_id) > MAX_MESSAGE_ID_LENGTH:
        raise FrameError(
            ErrorKind.RPC_FRAMEWORK,
            f"MessageId is longer than {MAX_MESSAGE_ID_LENGTH} characters",
            message_id,
        )
    if type_id == CALL:
        if len(data) != 4 or not isinstance(data[2], str):
            raise FrameError(
                ErrorKind.RPC_FRAMEWORK,
                "A CALL is [2, messageId, action, payload]",
                message_id,
            )
        if not isinstance(data[3], dict):
            raise FrameError(ErrorKind.FORMAT, "Payload is not a JSON object", message_id)
        return IncomingCall(message_id, data[2], data[3])
    if type_id == CALL_RESULT:
        if len(data) != 3:
            raise FrameError(
                ErrorKind.RPC_FRAMEWORK, "A CALLRESULT is [3, messageId, payload]", message_id
            )
        payload = data[2] if isinstance(data[2], dict) else {}
        return IncomingResult(message_id, payload)
    if type_id == CALL_ERROR:
        if len(data) < 4:
            raise FrameError(
                ErrorKind.RPC_FRAMEWORK,
                "A CALLERROR is [4, messageId, errorCode, errorDescription, errorDetails]",
                message_id,
            )
        details = data[4] if len(data) > 4 else {}
        return IncomingError(message_id, str(data[2]), str(data[3]), details)
    raise FrameError(
        ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED,
        f"MessageTypeId {type_id!r} is not supported",
        message_id,
    )


def _id_in_broken(raw: str | bytes) -> str | None:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    match = _ID_IN_BROKEN_JSON.match(text)
    return match.group(1) if match else None


def _nested_deeper(raw: str | bytes, data: Any, limit: int) -> bool:
    """Whether `data` (parsed from `raw`) nests arrays and objects deeper than `limit`."""
    if isinstance(raw, bytes):
        brackets = raw.count(b"[") + raw.count(b"{")
    else:
        brackets = raw.count("[") + raw.count("{")
    if brackets <= limit:
        return False  # too few brackets to nest that deep: the usual frame stops here
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, dict | list):
            continue
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children)
    return False


def _too_deep(data: Any) -> FrameError:
    """A CALL with a readable id whose payload nests too deep is a format error of that
    CALL; any other frame that deep is not an RPC message we can read."""
    description = f"Message is nested deeper than {MAX_NESTING} levels"
    readable = isinstance(data, list) and len(data) > 1 and isinstance(data[1], str)
    if not readable or len(data[1]) > MAX_MESSAGE_ID_LENGTH:
        return FrameError(ErrorKind.RPC_FRAMEWORK, description)
    if data[0] == CALL and len(data) == 4 and isinstance(data[2], str):
        return FrameError(ErrorKind.FORMAT, description, data[1])
    return FrameError(ErrorKind.RPC_FRAMEWORK, description, data[1])


_KIND_OF_SCHEMA_RULE = {
    "required": ErrorKind.OCCURRENCE,
    "minItems": ErrorKind.OCCURRENCE,
    "maxItems": ErrorKind.OCCURRENCE,
    "type": ErrorKind.TYPE,
    "maxLength": ErrorKind.TYPE,
    "minLength": ErrorKind.TYPE,
    "enum": ErrorKind.PROPERTY,
    "minimum": ErrorKind.PROPERTY,
    "maximum": ErrorKind.PROPERTY,
    "multipleOf": ErrorKind.PROPERTY,
    "pattern": ErrorKind.PROPERTY,
    # A dateTime is an OCPP data type (RFC 3339); "yesterday" breaks the type.
    "format": ErrorKind.TYPE,
}


def _is_int(instance: object) -> TypeGuard[int]:
    return isinstance(instance, int) and not isinstance(instance, bool)


def _is_stored_int(checker: TypeChecker, instance: object) -> bool:
    """An integer the store can hold (64 bits): a connector id of 2**64 breaks the type.

    Both versions say 32 bits, but a charger's StopTransaction for an id above that (one
    we never issued) must still be answered and recorded, or the charger sends it again
    and again."""
    return is_stored_int(instance)


def _is_date_time(value: object) -> bool:
    """Whether `parse_wire` reads `value` (a value that is no string is the type's case)."""
    return not isinstance(value, str) or parse_wire(value) is not None


_FORMATS = FormatChecker(formats=())
_FORMATS.checks("date-time")(_is_date_time)


_OcppValidator = validators.extend(
    Draft4Validator,
    type_checker=Draft4Validator.TYPE_CHECKER.redefine("integer", _is_stored_int),
)


_DECIMAL_SCHEMAS = {
    "1.6": {
        ("SetChargingProfile", False),
        ("RemoteStartTransaction", False),
        ("GetCompositeSchedule", True),
    }
}


def schema_violation(
    version: str, action: str, payload: dict[str, Any], *, response: bool = False
) -> FrameError | None:
    """The first schema violation of `payload`, or None.

    Unknown extra properties are tolerated: chargers add vendor fields, and refusing them
    would refuse the charger.
    """
    decimals = (action, response) in _DECIMAL_SCHEMAS.get(version, ())
    message_type = CALL_RESULT if response else CALL
    check = _compiled_check(message_type, action, version, decimals)
    if check is not None and check(payload):
        return None
    if decimals:
        # These 1.6 schemas say `multipleOf: 0.1`, which binary floats fail (21.4 is
        # 21.399999…); check them with decimals, as the `ocpp` package does.
        payload = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    for error in _validator(message_type, action, version, decimals).iter_errors(payload):
        if error.validator == "additionalProperties":
            continue
        return FrameError(
            _KIND_OF_SCHEMA_RULE.get(str(error.validator), ErrorKind.FORMAT), _describe(error)
        )
    return None


@cache  # one per schema, as `get_validator` keeps them
def _validator(message_type: int, action: str, version: str, decimals: bool) -> Any:
    """The `ocpp` package's schema, checked with 64-bit integers and `date-time` formats
    (its own validator checks neither)."""
    parse_float = decimal.Decimal if decimals else float
    schema = get_validator(message_type, action, version, parse_float=parse_float).schema
    return _OcppValidator(schema, format_checker=_FORMATS)


@cache
def _compiled_check(message_type: int, action: str, version: str, decimals: bool) -> Check | None:
    """The schema's compiled yes/no check (see `schema_check`), or None. The schema is
    read as `_validator` reads it: the `ocpp` package keeps one per action, however its
    numbers were parsed the first time."""
    return compile_check(_validator(message_type, action, version, decimals).schema, _is_date_time)


def _describe(error: SchemaError) -> str:
    where = "/".join(str(p) for p in error.absolute_path)
    if error.validator == "type" and error.validator_value == "integer" and _is_int(error.instance):
        message = f"{error.instance} is out of the integer range"
    else:
        message = error.message
    return shorten(f"{where}: {message}" if where else message)


def shorten(description: str) -> str:
    """`description`, cut to `MAX_DESCRIPTION_LENGTH` characters."""
    if len(description) <= MAX_DESCRIPTION_LENGTH:
        return description
    return description[: MAX_DESCRIPTION_LENGTH - 1] + "…"


@lru_cache(maxsize=4096)
def _snake(key: str) -> str:
    return str(next(iter(camel_to_snake_case({key: None}))))


def snake_case_keys(data: Any) -> Any:
    """camelCase payload keys to the snake_case keyword names of `@on` handlers."""
    if isinstance(data, dict):
        return {_snake(k): snake_case_keys(v) for k, v in data.items()}
    if isinstance(data, list):
        return [snake_case_keys(v) for v in data]
    return data


@lru_cache(maxsize=4096)
def _camel(key: str) -> str:
    return str(next(iter(snake_to_camel_case({key: None}))))


def camel_case_keys(data: Any) -> Any:
    """snake_case keys (as in the `ocpp` dataclasses) to the camelCase of the wire, without
    the keys whose value is None."""
    if isinstance(data, dict):
        return {_camel(k): camel_case_keys(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [camel_case_keys(v) for v in data if v is not None]
    return data


def call_error_frame(
    message_id: str, code: str, description: str, details: dict[str, Any] | None = None
) -> str:
    return json.dumps(
        [CALL_ERROR, message_id, code, description, details or {}], separators=(",", ":")
    )


def call_result_frame(message_id: str, payload: dict[str, Any]) -> str:
    return json.dumps([CALL_RESULT, message_id, payload], separators=(",", ":"))


def call_frame(message_id: str, action: str, payload: dict[str, Any]) -> str:
    return json.dumps([CALL, message_id, action, payload], separators=(",", ":"))
