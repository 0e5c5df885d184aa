"""The operator's documentation keeps up with the code: every `[ocpp]` setting and every
HTTP endpoint is described, and the service unit in the README matches the store's default."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any, cast

import pytest

from adapters.files.app_config import DEFAULT_CONFIG_PATH, DEFAULT_STORE_PATH
from adapters.http.api import StatusApi
from adapters.http.history import LoadHistory
from adapters.http.operator import OperatorApi
from adapters.ocpp.config import OcppSettings

ROOT = Path(__file__).resolve().parents[1]
NETWORK = (ROOT / "docs" / "network.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", [f.name for f in dataclasses.fields(OcppSettings)])
def test_every_ocpp_setting_is_documented(setting: str) -> None:
    assert re.search(rf"^\| `{setting}` \|", NETWORK, re.MULTILINE), setting


def _routes() -> list[tuple[str, str]]:
    nothing = cast(Any, None)
    routes = [
        *StatusApi(nothing, LoadHistory()).routes(),
        *OperatorApi(nothing, nothing, None).routes(),
    ]
    return [(route.method, route.path) for route in routes]


@pytest.mark.parametrize(("method", "path"), _routes())
def test_every_http_endpoint_is_documented(method: str, path: str) -> None:
    assert f"| `{method} {path}` |" in NETWORK


def test_the_service_unit_keeps_the_store_in_its_state_folder() -> None:
    unit = README.split("[Unit]")[1].split("```")[0]
    assert "StateDirectory=ems" in unit
    assert f"--config {DEFAULT_CONFIG_PATH}" in unit
    assert DEFAULT_STORE_PATH.parent == Path("/var/lib/ems")
    assert str(DEFAULT_STORE_PATH) in README
    assert "/etc/ems/ems.sqlite" not in README
