"""Where the controller runs: a process of its own, or (with an injected solver or clock,
as tests do) a thread.

In a thread, every control step held the GIL the event loop needs to answer chargers: at
a thousand chargers a step and the view after it took a few hundred ms each second, and
the answers waited behind them (issue 18). In its own process the controller has a core
to itself; the event loop only pickles the events over and the commands and views back.
Only one batch is in the worker at a time (the runtime's one consumer), so the controller
needs no lock either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import multiprocessing.connection
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime

from adapters.clock import utc_now
from adapters.runtime.counters import ControllerError, WatchedSolver
from adapters.solver_banner import silence_solver_banner
from ems.commands import Command
from ems.controller import Controller
from ems.events import Event, Tick
from ems.site import ControlSettings, SiteConfig
from ems.view import ControllerView
from optimizer.solver import Solver

Clock = Callable[[], datetime]
Outcome = tuple[list[Command], ControllerView | None, list[ControllerError]]
"""What a batch gave: the commands, the view (None unless built), the errors on the way."""

LOG = logging.getLogger(__name__)
CLOSE_WAIT_S = 10.0
"""How long a stop waits for the worker to finish the batch it is in."""
_LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_PR_SET_PDEATHSIG = 1


def handle_batch(
    controller: Controller,
    solver: WatchedSolver,
    clock: Clock,
    batch: Sequence[Event],
    view_wanted: bool,
) -> Outcome:
    """The controller on a batch of events, and nothing else. Its exceptions, and those of
    the solver (which the controller catches), are collected for the event loop to count
    and log: the controller carries on with the next event.

    The view is built again after a batch with a tick (only a tick steps), or when it was
    asked for; else it is None: at a thousand chargers building it costs more than the
    step."""
    commands: list[Command] = []
    errors: list[ControllerError] = []
    for event in batch:
        raised: Exception | None = None
        try:
            commands.extend(controller.handle(event, clock()))
        except Exception as error:
            raised = error
        errors.extend(
            ControllerError(event, solver_error, by_solver=True)
            for solver_error in solver.take()
            if solver_error is not raised
        )
        if raised is not None:
            errors.append(ControllerError(event, raised))
    ticked = any(isinstance(event, Tick) for event in batch)
    view = controller.view(clock()) if ticked or view_wanted else None
    return commands, view, errors


class ControlThread:
    """The controller in one thread of its own (`ems-control`)."""

    def __init__(self, controller: Controller, solver: WatchedSolver, clock: Clock) -> None:
        self._controller = controller
        self._solver = solver
        self._clock = clock
        self._executor: Executor = ThreadPoolExecutor(1, thread_name_prefix="ems-control")

    async def handle(self, batch: Sequence[Event], view_wanted: bool) -> Outcome:
        return await asyncio.get_running_loop().run_in_executor(
            self._executor,
            handle_batch,
            self._controller,
            self._solver,
            self._clock,
            batch,
            view_wanted,
        )

    def close(self) -> None:
        self._executor.shutdown(wait=True)


class ControlProcess:
    """The controller in a child process (spawned, so it inherits no threads or sockets)
    that dies with this one; built there from the site and the control settings."""

    def __init__(self, site: SiteConfig, settings: ControlSettings) -> None:
        self._executor = ProcessPoolExecutor(
            1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(site, settings, logging.getLogger().getEffectiveLevel()),
        )

    async def handle(self, batch: Sequence[Event], view_wanted: bool) -> Outcome:
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, _handle_in_worker, list(batch), view_wanted
        )

    def close(self) -> None:
        """Stop the worker. A batch it is in the middle of may finish for `CLOSE_WAIT_S`
        (a step takes far less); a worker still busy then is stuck, and is killed rather
        than hold the shutdown (and the event loop) for ever. The executor's own thread
        reaps it."""
        running = getattr(self._executor, "_processes", None) or {}
        workers = list(running.values())
        self._executor.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            if not multiprocessing.connection.wait([worker.sentinel], timeout=CLOSE_WAIT_S):
                LOG.error(
                    "controller worker (pid %s) still busy %g s after the stop; killing it",
                    worker.pid,
                    CLOSE_WAIT_S,
                )
                worker.kill()


_worker: tuple[Controller, WatchedSolver] | None = None
"""The worker process's controller and its solver."""


def _start_worker(site: SiteConfig, settings: ControlSettings, log_level: int) -> None:
    global _worker
    if sys.platform == "linux":
        with contextlib.suppress(Exception):  # die with the runtime (a kill -9 included)
            ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runtime's to handle
    logging.basicConfig(level=log_level, format=_LOG_FORMAT)
    silence_solver_banner()
    solver = WatchedSolver(Solver())
    _worker = (Controller(site, settings, solver), solver)


def _handle_in_worker(batch: list[Event], view_wanted: bool) -> Outcome:
    assert _worker is not None, "the worker is started before its first batch"
    controller, solver = _worker
    return handle_batch(controller, solver, utc_now, batch, view_wanted)
