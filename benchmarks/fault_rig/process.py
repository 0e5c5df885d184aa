"""The controller as a child process: `ControllerProcess` runs `ems run --config CONFIG`,
kills it (SIGKILL) and starts it again on the same config and store, each start logging to
its own file; `ems_command` finds the `ems` entry point and `free_port` a port to keep
across restarts. Every controller this rig started is killed by its PID when the rig process
exits or dies."""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import IO

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
READY = re.compile(r"central system on port (\d+), status page on port (\d+)")
LOG_MARKERS = ("WARNING", "ERROR", "CRITICAL", "Traceback", "controller mode")
LOG_AROUND_OVER = ("dispatch", "WARNING", "ERROR", "controller mode")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for a server that must keep it across restarts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def ems_command() -> list[str]:
    """The `ems` console script next to this interpreter, or the same entry point."""
    script = Path(sys.executable).with_name("ems")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from adapters.cli.main import main; main()"]


PR_SET_PDEATHSIG = 1
_RUNNING: set[subprocess.Popen[bytes]] = set()
"""Controller processes this rig started and has not seen end: killed (by PID) at exit."""


@atexit.register
def _kill_leftovers() -> None:
    for proc in list(_RUNNING):
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGKILL it when the rig process dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class ControllerProcess:
    """`ems run --config CONFIG [OPTIONS]` as a child process: started, killed (SIGKILL)
    and started again on the same config and store. Each start logs to its own file in
    `workdir`."""

    def __init__(self, config_path: Path, workdir: Path, options: Sequence[str] = ()) -> None:
        self.config_path = config_path
        self.workdir = workdir
        self.options = tuple(options)
        self.proc: subprocess.Popen[bytes] | None = None
        self.http_port: int | None = None
        self.ocpp_port: int | None = None
        self.logs: list[Path] = []
        self._log_file: IO[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def start(self) -> None:
        """Start and wait for the log line naming its ports."""
        if self.alive:
            raise RuntimeError("the controller is already running")
        log_path = self._spawn()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            match = READY.search(_read(log_path))
            if match:
                self.ocpp_port, self.http_port = int(match.group(1)), int(match.group(2))
                return
            if not self.alive:
                break
            await asyncio.sleep(0.05)
        tail = "\n".join(self.log_text().splitlines()[-25:])
        await self.stop()
        raise RuntimeError(f"`ems run` did not come up (log {log_path}):\n{tail}")

    def _spawn(self) -> Path:
        """Start the process (it takes well under a second); returns its log file."""
        self._close_log()
        log_path = self.workdir / f"controller-{len(self.logs) + 1}.log"
        self.logs.append(log_path)
        self._log_file = log_path.open("wb")
        self.http_port = None
        self.proc = subprocess.Popen(
            [*ems_command(), "run", "--config", str(self.config_path), *self.options],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.workdir,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        _RUNNING.add(self.proc)
        return log_path

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no flush — a crash or a power cut of the controller."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            await self._wait(STOP_TIMEOUT_S)
        self.http_port = None

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within STOP_TIMEOUT_S."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            if not await self._wait(STOP_TIMEOUT_S):
                os.kill(self.proc.pid, signal.SIGKILL)
                await self._wait(STOP_TIMEOUT_S)
        self.http_port = None
        self._close_log()

    async def _wait(self, timeout_s: float) -> bool:
        assert self.proc is not None
        for _ in range(int(timeout_s / 0.05) + 1):
            if self.proc.poll() is not None:
                _RUNNING.discard(self.proc)
                return True
            await asyncio.sleep(0.05)
        return False

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log_text(self) -> str:
        parts = []
        for number, path in enumerate(self.logs, start=1):
            parts.append(f"--- controller start {number} ---\n{_read(path)}")
        return "\n".join(parts)

    def lines_between(self, begin: datetime, end: datetime, limit: int = 12) -> list[str]:
        """What the controller sent and warned about between two local times (its log
        stamps local time): profiles, warnings, errors; the last `limit` of them."""
        kept = []
        for line in self.log_text().splitlines():
            if not any(word in line for word in LOG_AROUND_OVER):
                continue
            try:
                stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
            except ValueError:
                continue
            if begin <= stamp <= end:
                kept.append(line[11:])
        return kept[-limit:]

    def log_excerpt(self, lines: int = 20) -> list[str]:
        """The lines that say what went wrong or what the controller decided about the
        meter: warnings, errors and mode changes (the last `lines`)."""
        kept: dict[str, str] = {}  # the same message with other numbers is said once
        for line in self.log_text().splitlines():
            if line.startswith("---") or any(marker in line for marker in LOG_MARKERS):
                kept.setdefault(re.sub(r"[0-9.,:]+", "#", line[24:]), line)
        return list(kept.values())[-lines:]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
