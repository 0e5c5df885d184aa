"""Settings of the OCPP central system and their parsing from the `[ocpp]` TOML table.

[ocpp]
host = "0.0.0.0"
port = 9000                    # 0 picks a free port
path_prefix = "ocpp"           # chargers connect to ws://host:port/ocpp/<chargerId>
tls_cert = "cert.pem"          # both or neither: wss:// (security profile 2)
tls_key = "key.pem"
unknown_chargers = "reject"    # reject | accept | pending
unknown_tokens = "reject"      # reject | accept
known_chargers = ["CP1"]
heartbeat_interval_s = 300
ping_interval_s = 60           # omit to send no WebSocket pings
call_timeout_s = 30
max_frame_bytes = 262144
auth_max_failures = 5          # wrong passwords from one address within the window, then
auth_failure_window_s = 60     # it gets HTTP 429 for the window, without a password check

[ocpp.passwords]               # HTTP Basic auth (security profile 1), per charger:
CP1 = "secret"                 # plain text, or a hash from `ems chargers add --password`

[[ocpp.id_tokens]]             # or: id_tokens = ["TAG1", "TAG2"]
id_token = "TAG1"
expiry = 2030-01-01T00:00:00Z
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.files.errors import InputFileError, toml_line_of
from adapters.storage.records import TokenRecord

UNKNOWN_CHARGER_POLICIES = ("reject", "accept", "pending")
UNKNOWN_TOKEN_POLICIES = ("reject", "accept")


@dataclass(frozen=True)
class OcppSettings:
    host: str = "0.0.0.0"
    port: int = 9000
    path_prefix: str = "ocpp"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    unknown_chargers: str = "reject"
    """What to do with a charger id the store does not know: refuse the WebSocket
    (`reject`), register it as accepted (`accept`), or answer its boot `Pending` until an
    operator accepts it (`pending`)."""
    unknown_tokens: str = "reject"
    known_chargers: tuple[str, ...] = ()
    """Charger ids registered as accepted at start (e.g. the chargers of the site config)."""
    heartbeat_interval_s: int = 300
    ping_interval_s: float | None = None
    """WebSocket pings; None sends none (some chargers never answer pings)."""
    ping_timeout_s: float | None = 30.0
    call_timeout_s: float = 30.0
    max_frame_bytes: int = 256 * 1024
    compression: bool = False
    """permessage-deflate: costs 10–35 % CPU per small frame; chargers rarely need it."""
    passwords: Mapping[str, str] = field(default_factory=dict)
    id_tokens: tuple[TokenRecord, ...] = ()
    probe_capabilities: bool = True
    operator_poll_s: float = 1.0
    """How often the running server looks for commands queued by the operator CLI."""
    auth_max_failures: int = 5
    """Failed logins (HTTP 401) from one address within `auth_failure_window_s` before
    that address is refused with HTTP 429 for the window: guessing passwords, or a flood
    of handshakes each costing a password check, stops there."""
    auth_failure_window_s: float = 60.0


_FIELDS: dict[str, type | tuple[type, ...]] = {
    "host": str,
    "port": int,
    "path_prefix": str,
    "tls_cert": str,
    "tls_key": str,
    "unknown_chargers": str,
    "unknown_tokens": str,
    "known_chargers": list,
    "heartbeat_interval_s": int,
    "ping_interval_s": (int, float),
    "ping_timeout_s": (int, float),
    "call_timeout_s": (int, float),
    "max_frame_bytes": int,
    "compression": bool,
    "passwords": dict,
    "id_tokens": list,
    "probe_capabilities": bool,
    "operator_poll_s": (int, float),
    "auth_max_failures": int,
    "auth_failure_window_s": (int, float),
}


def parse_ocpp_section(data: Mapping[str, Any], path: Path | str, text: str) -> OcppSettings:
    """Validate the `[ocpp]` table (already parsed from TOML `text` read from `path`)."""

    def fail(name: str, message: str) -> InputFileError:
        field_path = f"ocpp.{name}"
        return InputFileError(path, message, toml_line_of(text, field_path), field_path)

    values: dict[str, Any] = {}
    for name, value in data.items():
        expected = _FIELDS.get(name)
        if expected is None:
            raise fail(name, f"unknown setting (known: {', '.join(sorted(_FIELDS))})")
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            raise fail(name, f"must be {_type_name(expected)} (got {value!r})")
        values[name] = value

    settings: dict[str, Any] = {}
    for name in ("host", "path_prefix", "compression", "probe_capabilities"):
        if name in values:
            settings[name] = values[name]
    if "path_prefix" in settings:
        settings["path_prefix"] = settings["path_prefix"].strip("/")
    if "port" in values:
        if not 0 <= values["port"] <= 65535:
            raise fail("port", f"must be between 0 and 65535 (got {values['port']})")
        settings["port"] = values["port"]
    for name in (
        "heartbeat_interval_s",
        "call_timeout_s",
        "max_frame_bytes",
        "operator_poll_s",
        "auth_max_failures",
        "auth_failure_window_s",
    ):
        if name in values:
            if values[name] <= 0:
                raise fail(name, f"must be > 0 (got {values[name]})")
            settings[name] = values[name]
    for name in ("ping_interval_s", "ping_timeout_s"):
        if name in values:
            if values[name] <= 0:
                raise fail(name, f"must be > 0, or left out to disable (got {values[name]})")
            settings[name] = float(values[name])
    for name, choices in (
        ("unknown_chargers", UNKNOWN_CHARGER_POLICIES),
        ("unknown_tokens", UNKNOWN_TOKEN_POLICIES),
    ):
        if name in values:
            if values[name] not in choices:
                raise fail(name, f"must be one of {', '.join(choices)} (got {values[name]!r})")
            settings[name] = values[name]
    if ("tls_cert" in values) != ("tls_key" in values):
        missing = "tls_key" if "tls_cert" in values else "tls_cert"
        raise fail(missing, "tls_cert and tls_key go together")
    base = Path(path).parent
    for name in ("tls_cert", "tls_key"):
        if name in values:
            file = base / values[name]
            if not file.is_file():
                raise fail(name, f"no such file: {file}")
            settings[name] = file
    if "known_chargers" in values:
        ids = values["known_chargers"]
        if not all(isinstance(i, str) and i for i in ids):
            raise fail("known_chargers", "must be a list of charger id strings")
        settings["known_chargers"] = tuple(ids)
    if "passwords" in values:
        for charger_id, password in values["passwords"].items():
            if not isinstance(password, str) or not password:
                raise fail(f"passwords.{charger_id}", "must be a non-empty string")
        settings["passwords"] = dict(values["passwords"])
    if "id_tokens" in values:
        settings["id_tokens"] = tuple(
            _parse_token(entry, index, fail) for index, entry in enumerate(values["id_tokens"])
        )
    return OcppSettings(**settings)


def _parse_token(entry: Any, index: int, fail: Any) -> TokenRecord:
    where = f"id_tokens[{index}]"
    if isinstance(entry, str):
        if not entry:
            raise fail(where, "must not be empty")
        return TokenRecord(id_token=entry)
    if not isinstance(entry, dict):
        raise fail(where, f"must be a string or a table (got {entry!r})")
    unknown = set(entry) - {"id_token", "status", "expiry", "blocked"}
    if unknown:
        raise fail(f"{where}.{sorted(unknown)[0]}", "unknown setting")
    id_token = entry.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise fail(f"{where}.id_token", "required: a non-empty string")
    status = entry.get("status", "Accepted")
    if not isinstance(status, str):
        raise fail(f"{where}.status", f"must be a string (got {status!r})")
    blocked = entry.get("blocked", False)
    if not isinstance(blocked, bool):
        raise fail(f"{where}.blocked", f"must be true or false (got {blocked!r})")
    expiry = entry.get("expiry")
    if expiry is not None:
        if isinstance(expiry, str):
            try:
                expiry = datetime.fromisoformat(expiry)
            except ValueError:
                raise fail(f"{where}.expiry", f"not a date-time: {expiry!r}") from None
        if not isinstance(expiry, datetime):
            raise fail(f"{where}.expiry", f"must be a date-time (got {expiry!r})")
        if expiry.tzinfo is None:
            raise fail(f"{where}.expiry", "needs a UTC offset, e.g. 2030-01-01T00:00:00Z")
        expiry = expiry.astimezone(UTC)
    return TokenRecord(id_token=id_token, status=status, expiry=expiry, blocked=blocked)


def _type_name(expected: type | tuple[type, ...]) -> str:
    if isinstance(expected, tuple):
        return "a number"
    names = {str: "a string", int: "an integer", bool: "a boolean", list: "a list", dict: "a table"}
    return names[expected]
