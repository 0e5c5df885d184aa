"""The read-only side: JSON status endpoints, /metrics and the status page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from adapters.http import documents
from adapters.http.health import assess
from adapters.http.history import LoadHistory
from adapters.http.metrics import Metrics
from adapters.http.snapshot import StatusSnapshot
from adapters.http.source import StatusSource

STATIC_DIR = Path(__file__).parent / "static"

_NO_STORE = {"Cache-Control": "no-store"}
_PAGE_HEADERS = {
    **_NO_STORE,
    # The page loads only its own script and style and talks only to this server.
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}

Render = Callable[[StatusSnapshot], documents.Document]


class StatusApi:
    """Handlers that read a fresh snapshot per request and render it."""

    def __init__(self, source: StatusSource, history: LoadHistory) -> None:
        self._source = source
        self._history = history
        self._metrics = Metrics(source)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.page),
            web.get("/api/status", self._json(documents.status_document)),
            web.get("/api/site", self._json(documents.site_document)),
            web.get("/api/chargers", self._json(documents.chargers_document)),
            web.get("/api/connectors", self._json(documents.connectors_document)),
            web.get("/api/sessions", self._json(documents.sessions_document)),
            web.get("/api/allocation", self._json(documents.last_allocation_document)),
            web.get("/api/health", self.health),
            web.get("/api/history", self.history),
            web.get("/metrics", self.metrics),
        ]

    def _json(self, render: Render) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            return web.json_response(render(self._source.snapshot()), headers=_NO_STORE)

        return handler

    async def health(self, request: web.Request) -> web.Response:
        """503 when unhealthy, so a plain HTTP check can alert on it."""
        snapshot = self._source.snapshot()
        status = 200 if assess(snapshot).ok else 503
        return web.json_response(
            documents.health_document(snapshot), status=status, headers=_NO_STORE
        )

    async def history(self, request: web.Request) -> web.Response:
        document = documents.history_document(self._source.snapshot(), self._history)
        return web.json_response(document, headers=_NO_STORE)

    async def metrics(self, request: web.Request) -> web.Response:
        response = web.Response(body=self._metrics.render(), headers=_NO_STORE)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    async def page(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers=_PAGE_HEADERS)
