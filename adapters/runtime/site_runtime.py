"""The live controller of one site: store, central system, meters, controller and status
server wired together on asyncio.

Every input — what the chargers say, meter readings, the chargers' answers to our
profiles, and a tick every control period — goes into one queue. A single consumer takes
what has accumulated and hands it to the controller in a worker process of its own
(`adapters.runtime.control_worker`; a thread when a test injects the solver or the clock):
solving is CPU work, and the event loop must keep answering the chargers meanwhile. No
other work shares that worker — password checks run on their threads
(`adapters.ocpp.auth`), file work on the loop's default pool — so a storm of handshakes
cannot delay the step that notices a silent meter. Only that consumer hands the controller
work, so there is one batch at a time and no lock. The commands that come back go out
through the dispatcher.

    runtime = SiteRuntime(load_app_config("site.toml"))
    await runtime.start()
    ...  # runtime.ocpp_port, runtime.http_port, runtime.view(), runtime.status.snapshot()
    await runtime.stop()                # or: await runtime.serve(stop_event)
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from adapters.clock import utc_now
from adapters.files.app_config import VIRTUAL_METER_ID, AppConfig
from adapters.http.server import StatusServer
from adapters.modbus.poller import poll_meters
from adapters.ocpp.server import CentralSystem
from adapters.runtime.compliance_memory import ComplianceMemory
from adapters.runtime.control_worker import ControlProcess, ControlThread
from adapters.runtime.counters import (
    ERRORS_QUIET_S,
    ControllerError,
    ErrorRun,
    RuntimeCounters,
    WatchedSolver,
)
from adapters.runtime.demand_memory import DemandMemory
from adapters.runtime.dispatch import Dispatcher
from adapters.runtime.load_memory import LoadMemory
from adapters.runtime.meter_intake import MeterIntake
from adapters.runtime.observed import Observed
from adapters.runtime.price_feed import price_feed
from adapters.runtime.site_limit_feed import SiteLimitFeed
from adapters.runtime.startup import remembered_events, remembered_override
from adapters.runtime.status import RuntimeStatus
from adapters.storage.sqlite import SqliteStore
from ems.controller import Controller
from ems.events import ChargerDisconnected, Event, MeterReading, SessionStarted, Tick
from ems.meter_watch import Mode
from ems.solver_port import AllocationSolver
from ems.view import ControllerView
from optimizer.solver import Solver

LOG = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MAX_TICK_S = 1.0
"""Ticks come at least this often, so that a re-plan the controller asks for (a session
started, the meter went stale) waits at most this long, whatever the control period."""
READING_TICK_SHARE = 0.5
"""A site meter reading brings a tick along once this share of the tick interval passed."""
SESSION_TICK_SHARE = 0.2
"""A session start brings a tick along once this share of the tick interval passed: its EV
gets its first limit within about a fifth of a second plus a step, while a burst of starts
(a thousand chargers after an outage) still costs at most five steps a second."""
TASKS_STOP_S = 10.0
"""How long a stop waits for its loops (meter polls, ticks, prices) to end once cancelled:
far longer than any takes, so that one that does not is a fault to log, not a hung stop."""
SWITCH_INTERVAL_S = 0.0005
"""How long another thread may keep the GIL while the event loop asks for it (Python's
default is 5 ms): the control thread when the controller runs in one, the worker process's
feeder and result threads otherwise. The loop gives the GIL up each time it waits for its
sockets, so with a busy thread every turn of the loop waited up to that long (issue 18)."""


class SiteRuntime:
    """Runs one site until stopped. `clock` gives the real UTC time (injectable for tests);
    `http` False leaves the status server out."""

    def __init__(
        self,
        config: AppConfig,
        *,
        clock: Clock = utc_now,
        solver: AllocationSolver | None = None,
        http: bool = True,
    ) -> None:
        self.config = config
        self._clock = clock
        self._solver = WatchedSolver(solver or Solver())
        self._controller = Controller(config.site, config.control, self._solver)
        """The controller when it runs in a thread; else only the view before the start."""
        self._in_process = solver is None and clock is utc_now
        self._control: ControlThread | ControlProcess | None = None
        self.counters = RuntimeCounters()
        self.observed = Observed()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._tick_pending = False
        self._last_tick_s = float("-inf")
        self._tick_later: asyncio.TimerHandle | None = None
        self._tick_interval_s = min(config.control.period_s, MAX_TICK_S)
        self.store = SqliteStore(config.store.path)
        self._phases = {
            (c.charger_id, c.connector_id): len(c.phases) for c in config.site.connectors()
        }
        self.central = CentralSystem(
            config.ocpp, self.store, self._put_charger_event, self._number_phases
        )
        self.meters = MeterIntake(self._put_reading, self.counters)
        self._dispatcher = Dispatcher(self.central, self._put, self.counters)
        self._view = self._controller.view(clock())
        self._view_wanted = False
        self.prices = price_feed(config.prices, config.site.tariff.series, self._put, clock)
        self._demand = DemandMemory(self.store)
        self._load = LoadMemory(self.store)
        self._compliance = ComplianceMemory(self.store)
        self.limits = SiteLimitFeed(config.site, config.control, self._put, config.grid_caps_path)
        self.status = RuntimeStatus(
            config,
            self.central,
            self.meters,
            self.observed,
            self.counters,
            self.view,
            clock,
            self._put,
            self.limits,
            self.prices,
        )
        self._server = StatusServer(config.http, self.status, self.status) if http else None
        self._tasks: list[asyncio.Task[Any]] = []
        self._started = False

    # lifecycle

    async def start(self) -> None:
        """Listen for chargers and the operator, poll the meters, and start controlling."""
        if self._started:
            raise RuntimeError("the runtime is already started")
        self._started = True
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self._log_plan()
        self._control = (
            ControlProcess(self.config.site, self.config.control)
            if self._in_process
            else ControlThread(self._controller, self._solver, self._clock)
        )
        remembered = remembered_events(self.store, self.config.site, self._clock())
        for event in remembered:
            self.observed.see(event)
        try:
            # Before anything else runs: cheap bookkeeping, no control step; its commands
            # are the ones the controller gives again once the chargers connect.
            _, view, errors = await self._control.handle(remembered, True)
            if errors:
                raise errors[0].error
        except BaseException:
            self._control.close()
            self.store.close()
            self._started = False
            raise
        # the override came back with the events above; the caps join it from here on
        self.limits.override_a = remembered_override(self.store)
        self.limits.follow(self._clock())
        self._view = self._view if view is None else view
        try:
            await self.central.start()
            if self._server is not None:
                await self._server.start()
        except BaseException:
            await self.central.stop()
            self._control.close()
            self.store.close()
            self._started = False
            raise
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._consume(), name="controller"),
            loop.create_task(self._tick(), name="ticks"),
            loop.create_task(
                poll_meters(self.config.meters, self.meters, clock=self._clock), name="meters"
            ),
            *([] if self.prices is None else [loop.create_task(self.prices.run(), name="prices")]),
            loop.create_task(self.limits.run(self._clock), name="site limit"),
        ]
        LOG.info(
            "site %s: central system on port %d, status page %s",
            self.config.site.name,
            self.ocpp_port,
            f"on port {self.http_port}" if self._server is not None else "off",
        )

    async def stop(self) -> None:
        """Stop controlling, close every socket and flush the store. The chargers keep the
        fallbacks they were sent; their session profiles lapse on their own."""
        if not self._started:
            return
        if self._tick_later is not None:
            self._tick_later.cancel()
            self._tick_later = None
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=TASKS_STOP_S)
            for task in pending:
                LOG.error(
                    "%s did not stop within %g s; stopping without it",
                    task.get_name(),
                    TASKS_STOP_S,
                )
        self._tasks = []
        if self._server is not None:
            await self._server.stop()
        await self.central.stop()
        await self._dispatcher.stop()
        if self._control is not None:
            self._control.close()
            self._control = None
        self.store.close()
        self._started = False
        LOG.info("site %s: stopped", self.config.site.name)

    async def serve(self, stop: asyncio.Event) -> None:
        """Start (unless started), run until `stop` is set, then stop. A part of the
        runtime that fails (it should not) ends the run too; its error is raised after
        the shutdown."""
        if not self._started:
            await self.start()
        stopping = asyncio.get_running_loop().create_task(stop.wait())
        try:
            await asyncio.wait([stopping, *self._tasks], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            failed = next((t for t in self._tasks if t.done() and not t.cancelled()), None)
            await self.stop()
        error = None if failed is None else failed.exception()
        if failed is not None and error is not None:
            LOG.critical("%s stopped: %r", failed.get_name(), error)
            raise error

    async def __aenter__(self) -> SiteRuntime:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.stop()

    # where to reach it

    @property
    def ocpp_port(self) -> int:
        return self.central.port

    @property
    def ocpp_url(self) -> str:
        """The base URL chargers connect to (their id is appended)."""
        settings = self.config.ocpp
        scheme = "wss" if settings.tls_cert is not None else "ws"
        prefix = f"/{settings.path_prefix}" if settings.path_prefix else ""
        return f"{scheme}://{settings.host}:{self.ocpp_port}{prefix}"

    @property
    def http_port(self) -> int | None:
        return None if self._server is None else self._server.port

    def view(self) -> ControllerView:
        """The controller's picture after its last tick, or after the last batch of events
        it handled since the view was last asked for: asking has the next batch bring it
        up to date (building it costs more than a step at a thousand chargers, issue 18)."""
        self._view_wanted = True
        return self._view

    # the loop

    def _put(self, event: Event) -> None:
        self._queue.put_nowait(event)

    def _put_charger_event(self, event: Event) -> None:
        """What a charger said; a session start brings a tick along (as a site meter
        reading does), so that its EV gets its first limit soon rather than a whole tick
        interval later."""
        self._put(event)
        if isinstance(event, SessionStarted):
            self._put_tick_after(SESSION_TICK_SHARE, later=True)

    def _put_tick_after(self, share: float, *, later: bool = False) -> None:
        """A tick, if `share` of the tick interval passed since the last one; else, if
        `later`, once it has (one such tick waits at a time). A reading's tick is not put
        off: a step planned on a reading older than the limits sent since would take those
        connectors' draw for base load."""
        loop = asyncio.get_running_loop()
        wait_s = self._last_tick_s + self._tick_interval_s * share - loop.time()
        if wait_s <= 0:
            self._put_tick()
        elif later and self._tick_later is None:
            self._tick_later = loop.call_later(wait_s, self._put_tick_later)

    def _put_tick_later(self) -> None:
        self._tick_later = None
        self._put_tick()

    def _put_reading(self, reading: MeterReading) -> None:
        """A site meter reading, then a tick. A step right after a reading plans with the
        freshest base load, and on a reading newer than the limits it sent last: a
        connector whose limit was sent after the reading has none of its draw taken off
        it, so a step on an older reading would see that draw as base load. (Chargers'
        samples need no holding back: the controller takes off a reading the samples that
        were current when it was taken.)"""
        self._put(reading)
        wanted = self.config.control.site_meter_id
        if wanted is None or reading.meter_id == wanted:
            self._put_tick_after(READING_TICK_SHARE)

    def _put_tick(self) -> None:
        if not self._tick_pending:
            self._tick_pending = True
            self._last_tick_s = asyncio.get_running_loop().time()
            self._put(Tick(self._clock()))

    async def _tick(self) -> None:
        """Ticks while the meter is silent (the controller must notice it go stale)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._tick_interval_s)
            if loop.time() - self._last_tick_s >= self._tick_interval_s:
                self._put_tick()

    async def _consume(self) -> None:
        self.counters.start(self._clock(), self._view)
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            for event in batch:
                self._before_controller(event)
            for part in before_the_tick(batch):
                await self._handle(part)

    async def _handle(self, batch: list[Event]) -> None:
        before = self._view
        wanted, self._view_wanted = self._view_wanted, False
        assert self._control is not None, "started"
        commands, view, errors = await self._control.handle(batch, wanted)
        self._view = before if view is None else view
        self._after_controller(before, self._view, errors)
        self._dispatcher.dispatch(commands)

    def _before_controller(self, event: Event) -> None:
        """Bookkeeping on the event loop, where the store and the sockets live."""
        if isinstance(event, Tick):
            self._tick_pending = False
        elif isinstance(event, ChargerDisconnected):
            self._dispatcher.charger_disconnected(event.charger_id)
        self.observed.see(event)

    def _after_controller(
        self, before: ControllerView, after: ControllerView, errors: list[ControllerError]
    ) -> None:
        if after.at is not None and after.at != before.at:
            self.counters.solves += 1
            self.counters.solve_seconds_total += (after.solve_ms or 0.0) / 1000.0
        run = self.counters.record(before, after, errors, self._clock())
        self._demand.keep(after, self._clock())
        self._load.keep(after, self._clock())
        self._compliance.keep(after, self._clock())
        for error in errors:
            if error is errors[0] and run is ErrorRun.STARTED:
                LOG.error(
                    "%s (event %r); carrying on, and counting the errors that follow (logged at"
                    " debug level) until they stop",
                    error.describe(),
                    error.event,
                    exc_info=error.error,
                )
            else:
                LOG.debug("%s (event %r)", error.describe(), error.event, exc_info=error.error)
        if run is ErrorRun.STOPPED:
            LOG.info(
                "controller errors stopped: proper steps and none for %.0f s (%d in all)",
                ERRORS_QUIET_S,
                self.counters.step_errors,
            )
        if after.mode != before.mode:
            log = LOG.info if after.mode is Mode.NORMAL else LOG.warning
            log("controller mode: %s — %s", after.mode.value, after.mode_reason)

    # wiring

    def _number_phases(self, charger_id: str, connector_id: int) -> int:
        """The phases a connector is wired to (3 when not configured), for every profile
        sent: looked up in a table (`SiteConfig.connector` walks every connector)."""
        return self._phases.get((charger_id, connector_id), 3)

    def _log_plan(self) -> None:
        site = self.config.site
        LOG.info(
            "site %s: limit %.0f A per phase, %d chargers, %d connectors",
            site.name,
            site.limits.phase_limit_a,
            len(site.chargers),
            len(site.connectors()),
        )
        meter = self.config.site_meter
        if meter is not None and meter.id == VIRTUAL_METER_ID:
            LOG.warning(
                "no site meter in [[meters]]: assuming the worst configured base load, "
                "%s A per phase, at all times",
                "/".join(f"{a:g}" for a in site.worst_base_load_a),
            )
        elif meter is not None and meter.is_virtual:
            LOG.info("site meter %s is virtual: its configured load is the base load", meter.id)
        for line in self._controller.fallbacks.explanation:
            LOG.info("fallback: %s", line)
        LOG.info("store: %s", self.config.store.path)


def before_the_tick(batch: list[Event]) -> list[list[Event]]:
    """The batch in order, cut before its first tick: what the events before it send (a
    booted charger's defaults, a profile an answer released) goes out without waiting for
    the control step the tick brings, which at a thousand chargers takes a few hundred ms
    while an EV on a charger without its default yet may draw its maximum."""
    first = next((i for i, event in enumerate(batch) if isinstance(event, Tick)), 0)
    return [batch[:first], batch[first:]] if first > 0 else [batch]
