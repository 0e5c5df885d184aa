"""The operator's HTTP edge: status page, JSON API, Prometheus metrics, operator actions."""

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
