"""The live runtime: store, central system, meters, controller and status server of one
site wired together on asyncio (`ems run`, and the demo on top of it).

    config = load_app_config("site.toml")          # adapters.files.app_config
    runtime = SiteRuntime(config)                   # or SiteRuntime(config, clock=..., http=False)
    await runtime.start()
    runtime.ocpp_url, runtime.ocpp_port, runtime.http_port
    runtime.view()                                  # the controller's last ems.view.ControllerView
    runtime.status.snapshot()                       # what GET /api/status shows
    await runtime.stop()

or `await runtime.serve(stop_event)` to run until an asyncio.Event is set.

The names below load on first use: the controller's worker process imports
`adapters.runtime.control_worker` alone, not the sockets and servers of the runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.runtime.counters import RuntimeCounters
    from adapters.runtime.site_runtime import SiteRuntime
    from adapters.runtime.status import RuntimeStatus

_EXPORTS = {
    "RuntimeCounters": "adapters.runtime.counters",
    "RuntimeStatus": "adapters.runtime.status",
    "SiteRuntime": "adapters.runtime.site_runtime",
}

__all__ = ["RuntimeCounters", "RuntimeStatus", "SiteRuntime"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
