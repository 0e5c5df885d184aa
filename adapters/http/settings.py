"""The `[http]` section of site.toml: where the status server listens, and its token.

```toml
[http]
host = "127.0.0.1"   # operator port; loopback only unless you mean otherwise
port = 8090          # 0 picks a free port
token = "…"          # bearer token for the operator endpoints; omit to disable them
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.files.errors import InputFileError, toml_line_of

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090
MIN_TOKEN_LENGTH = 16
_SECTION = "http"
_KEYS = ("host", "port", "token")


@dataclass(frozen=True)
class HttpSettings:
    """Where the status server listens. `token` None disables the operator endpoints."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None


def parse_http_section(data: Mapping[str, Any], path: Path | str, text: str) -> HttpSettings:
    """Validate the `[http]` table `data` (empty when the file has none) read from `path`,
    whose raw `text` is used to point errors at their line."""

    def fail(key: str, message: str) -> InputFileError:
        field = f"{_SECTION}.{key}"
        return InputFileError(path, message, line=toml_line_of(text, field), field=field)

    for key in data:
        if key not in _KEYS:
            raise fail(key, f"unknown key (expected one of: {', '.join(_KEYS)})")

    host = data.get("host", DEFAULT_HOST)
    if not isinstance(host, str) or not host.strip():
        raise fail("host", f"must be a host name or address (got {host!r})")

    port = data.get("port", DEFAULT_PORT)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise fail("port", f"must be an integer from 0 to 65535 (got {port!r})")

    token = data.get("token")
    if token is not None:
        if not isinstance(token, str):
            raise fail("token", f"must be a string (got {type(token).__name__})")
        if len(token) < MIN_TOKEN_LENGTH or token.strip() != token:
            raise fail(
                "token",
                f"must be at least {MIN_TOKEN_LENGTH} characters with no surrounding spaces"
                " (make one with `python -c 'import secrets; print(secrets.token_urlsafe())'`)",
            )

    return HttpSettings(host=host.strip(), port=port, token=token)
