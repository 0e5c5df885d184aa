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
"""

from adapters.runtime.counters import RuntimeCounters
from adapters.runtime.site_runtime import SiteRuntime
from adapters.runtime.status import RuntimeStatus

__all__ = ["RuntimeCounters", "RuntimeStatus", "SiteRuntime"]
