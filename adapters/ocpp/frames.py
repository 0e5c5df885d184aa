"""OCPP-J frames: parsing what a charger sent, and naming errors per protocol version.

Everything a charger can get wrong in a frame ends here as a `FrameError` that says which
CALLERROR to answer with; nothing raises past this module.
"""

from __future__ import annotations

import decimal
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from jsonschema.exceptions import ValidationError as SchemaError
from ocpp.charge_point import camel_to_snake_case, snake_to_camel_case
from ocpp.messages import get_validator

MAX_MESSAGE_ID_LENGTH = 36
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
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        match = _ID_IN_BROKEN_JSON.match(text)
        raise FrameError(
            ErrorKind.RPC_FRAMEWORK,
            "Message is not valid JSON",
            match.group(1) if match else None,
        ) from None
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
}


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
    message_type = CALL_RESULT if response else CALL
    if (action, response) in _DECIMAL_SCHEMAS.get(version, ()):
        # These 1.6 schemas say `multipleOf: 0.1`, which binary floats fail (21.4 is
        # 21.399999…); check them with decimals, as the `ocpp` package does.
        validator = get_validator(message_type, action, version, parse_float=decimal.Decimal)
        payload = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    else:
        validator = get_validator(message_type, action, version)
    for error in validator.iter_errors(payload):
        if error.validator == "additionalProperties":
            continue
        return FrameError(
            _KIND_OF_SCHEMA_RULE.get(str(error.validator), ErrorKind.FORMAT), _describe(error)
        )
    return None


def _describe(error: SchemaError) -> str:
    where = "/".join(str(p) for p in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


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
