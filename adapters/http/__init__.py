"""The operator's HTTP edge: status page, JSON API, Prometheus metrics, operator actions."""

from adapters.http.server import StatusServer
from adapters.http.settings import HttpSettings, parse_http_section
from adapters.http.snapshot import (
    AllocationSnapshot,
    ChargerSnapshot,
    ConnectorSnapshot,
    Counters,
    SessionSnapshot,
    SiteSnapshot,
    StatusSnapshot,
)
from adapters.http.source import OperatorActions, RemoteStopResult, StatusSource

__all__ = [
    "AllocationSnapshot",
    "ChargerSnapshot",
    "ConnectorSnapshot",
    "Counters",
    "HttpSettings",
    "OperatorActions",
    "RemoteStopResult",
    "SessionSnapshot",
    "SiteSnapshot",
    "StatusServer",
    "StatusSnapshot",
    "StatusSource",
    "parse_http_section",
]
