"""The operator's HTTP edge: status page, JSON API, Prometheus metrics, operator actions.

The names below load on first use: the controller's worker process needs the snapshot
types (through `adapters.runtime.counters`) but not the web server and its libraries,
which took it most of a second more to start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.http.server import StatusServer
    from adapters.http.settings import HttpSettings, parse_http_section
    from adapters.http.snapshot import (
        AllocationSnapshot,
        ChargerSnapshot,
        ConnectorSnapshot,
        ControllerSnapshot,
        Counters,
        MoneySnapshot,
        PricesSource,
        SessionSnapshot,
        SiteSnapshot,
        StatusSnapshot,
        UnprovenConnector,
    )
    from adapters.http.source import OperatorActions, RemoteStopResult, StatusSource

_EXPORTS = {
    "AllocationSnapshot": "adapters.http.snapshot",
    "ChargerSnapshot": "adapters.http.snapshot",
    "ConnectorSnapshot": "adapters.http.snapshot",
    "ControllerSnapshot": "adapters.http.snapshot",
    "Counters": "adapters.http.snapshot",
    "HttpSettings": "adapters.http.settings",
    "MoneySnapshot": "adapters.http.snapshot",
    "OperatorActions": "adapters.http.source",
    "PricesSource": "adapters.http.snapshot",
    "RemoteStopResult": "adapters.http.source",
    "SessionSnapshot": "adapters.http.snapshot",
    "SiteSnapshot": "adapters.http.snapshot",
    "StatusServer": "adapters.http.server",
    "StatusSnapshot": "adapters.http.snapshot",
    "StatusSource": "adapters.http.source",
    "UnprovenConnector": "adapters.http.snapshot",
    "parse_http_section": "adapters.http.settings",
}

__all__ = [
    "AllocationSnapshot",
    "ChargerSnapshot",
    "ConnectorSnapshot",
    "ControllerSnapshot",
    "Counters",
    "HttpSettings",
    "MoneySnapshot",
    "OperatorActions",
    "PricesSource",
    "RemoteStopResult",
    "SessionSnapshot",
    "SiteSnapshot",
    "StatusServer",
    "StatusSnapshot",
    "StatusSource",
    "UnprovenConnector",
    "parse_http_section",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
