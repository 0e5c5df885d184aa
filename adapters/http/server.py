"""The status server: the operator's window on the running controller.

The runtime wires it in a few lines:

```python
server = StatusServer(settings.http, source=runtime, actions=runtime)
await server.start()
log.info("status page on http://%s:%d/", settings.http.host, server.port)
...
await server.stop()
```
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from adapters.http.api import STATIC_DIR, StatusApi
from adapters.http.history import LoadHistory, sample_forever
from adapters.http.operator import OperatorApi
from adapters.http.settings import HttpSettings
from adapters.http.source import OperatorActions, StatusSource

_MAX_REQUEST_BYTES = 64 * 1024


class StatusServer:
    """The status page, JSON API, metrics and operator endpoints on one port.

    While started it samples the site load into `history` for the page's chart; pass a
    history of your own to show load recorded elsewhere.
    """

    def __init__(
        self,
        settings: HttpSettings,
        source: StatusSource,
        actions: OperatorActions,
        history: LoadHistory | None = None,
    ) -> None:
        self._settings = settings
        self._source = source
        self._actions = actions
        self._history = history if history is not None else LoadHistory()
        self._runner: web.AppRunner | None = None
        self._sampler: asyncio.Task[None] | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        """The bound port (the one the OS chose when configured with port 0)."""
        if self._port is None:
            raise RuntimeError("the status server is not started")
        return self._port

    def _application(self) -> web.Application:
        app = web.Application(client_max_size=_MAX_REQUEST_BYTES)
        app.add_routes(StatusApi(self._source, self._history).routes())
        app.add_routes(OperatorApi(self._source, self._actions, self._settings.token).routes())
        app.router.add_static("/static/", STATIC_DIR)
        return app

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the status server is already started")
        runner = web.AppRunner(self._application(), access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._settings.host, self._settings.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = _bound_port(runner)
        self._sampler = asyncio.create_task(
            sample_forever(self._source, self._history), name="status-load-history"
        )

    async def stop(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler
            self._sampler = None
        if self._runner is not None:
            runner, self._runner, self._port = self._runner, None, None
            await runner.cleanup()


def _bound_port(runner: web.AppRunner) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple):
            return int(address[1])
    raise RuntimeError("the status server is bound to no TCP address")
