"""A small live config for the runtime's tests: three chargers, no site meter (a virtual one
at the worst base load), everything on 127.0.0.1."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from adapters.storage.sqlite import SqliteStore

SITE_TOML = """\
[site]
name = "Runtime test site"
limit_a = 40
worst_base_load_a = [10, 10, 10]

[[chargers]]
id = "CP1"
  [[chargers.connectors]]
  connector_id = 1
  phases = "L1L2L3"
  max_current_a = 32

[[chargers]]
id = "CP2"
  [[chargers.connectors]]
  connector_id = 1
  phases = "L2"
  max_current_a = 32

[[chargers]]
id = "CP3"
  [[chargers.connectors]]
  connector_id = 1
  phases = "L3"
  max_current_a = 32

[control]
period_s = 0.5
pause_dwell_s = 2
min_update_interval_s = 0.5

[ocpp]
host = "127.0.0.1"
port = {ocpp_port}
unknown_tokens = "accept"
call_timeout_s = 5

[http]
port = 0
token = "operator-token-for-tests"

[store]
path = "runtime.sqlite"
"""

METER_TOML = """
[[meters]]
id = "grid"
map = "sdm630"
host = "127.0.0.1"
port = {port}
interval_s = 0.2
timeout_s = 0.1
"""
"""A site meter for `SITE_TOML`, polled five times a second: format with its port."""


def stored_setting(path: Path, name: str) -> dict[str, Any] | None:
    """The setting `name` as the store at `path` holds it, read with the store closed
    after."""
    store = SqliteStore(path)
    try:
        return store.get_setting(name)
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_site(directory: Path, ocpp_port: int = 0) -> Path:
    path = directory / "site.toml"
    path.write_text(SITE_TOML.format(ocpp_port=ocpp_port), encoding="utf-8")
    return path
