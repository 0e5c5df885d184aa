"""The controller's worker process: a stop waits for it, a bounded time."""

from __future__ import annotations

import asyncio
import multiprocessing.connection
import time
from pathlib import Path

import pytest

from adapters.files.app_config import load_app_config
from adapters.runtime import control_worker
from adapters.runtime.control_worker import ControlProcess
from tests.adapters.runtime.site import write_site


async def started(tmp_path: Path) -> ControlProcess:
    config = load_app_config(write_site(tmp_path))
    control = ControlProcess(config.site, config.control)
    commands, view, errors = await control.handle([], True)
    assert (commands, errors) == ([], [])
    assert view is not None
    return control


def worker_of(control: ControlProcess) -> multiprocessing.Process:
    return next(iter(control._executor._processes.values()))


def ended(worker: multiprocessing.Process) -> bool:
    return bool(multiprocessing.connection.wait([worker.sentinel], timeout=30.0))


async def test_a_stuck_worker_is_killed_at_the_stop_instead_of_holding_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    control = await started(tmp_path)
    worker = worker_of(control)
    stuck = control._executor.submit(time.sleep, 120)  # a batch that never ends
    for _ in range(3000):  # handed to the worker: a stop can no longer cancel it
        if stuck.running():
            break
        await asyncio.sleep(0.01)
    assert stuck.running()
    monkeypatch.setattr(control_worker, "CLOSE_WAIT_S", 1.0)
    began = time.monotonic()
    control.close()
    assert time.monotonic() - began < 20.0
    assert ended(worker)
    assert f"controller worker (pid {worker.pid}) still busy" in caplog.text


async def test_an_idle_worker_ends_on_its_own_at_the_stop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    control = await started(tmp_path)
    worker = worker_of(control)
    control.close()
    assert ended(worker)
    assert "still busy" not in caplog.text
