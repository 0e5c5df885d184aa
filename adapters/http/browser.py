"""Headless Chromium on the status page: its DOM after the scripts ran, or a screenshot.

Used by the page's browser test and to make the README's screenshot. Each run gets a
throw-away profile, a time limit, and its own process group, so a hung browser is killed
together with every helper process it started, and with nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"

# Quiet, private, reproducible: no network besides the page, no profile left behind.
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


class BrowserError(Exception):
    """Chromium failed, or did not finish in time."""


def find_chromium() -> str | None:
    """The Chromium binary, or None when this machine has none."""
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


async def dump_dom(
    url: str, *, chromium: str = CHROMIUM, budget_ms: int = 5000, timeout_s: float = 60.0
) -> str:
    """The page's DOM after `budget_ms` of virtual time (its scripts have run)."""
    return await _run(
        chromium, [f"--virtual-time-budget={budget_ms}", "--dump-dom", url], timeout_s
    )


async def screenshot(
    url: str,
    path: Path,
    *,
    chromium: str = CHROMIUM,
    window_size: tuple[int, int] = (1280, 900),
    budget_ms: int = 5000,
    timeout_s: float = 60.0,
) -> Path:
    """Write a PNG of the page at `window_size` to `path`, after `budget_ms` of virtual time."""
    target = await asyncio.to_thread(_prepare_target, path)
    width, height = window_size
    await _run(
        chromium,
        [
            f"--virtual-time-budget={budget_ms}",
            f"--window-size={width},{height}",
            f"--screenshot={target}",
            url,
        ],
        timeout_s,
    )
    if not await asyncio.to_thread(target.is_file):
        raise BrowserError(f"chromium wrote no screenshot to {target}")
    return target


def _prepare_target(path: Path) -> Path:
    """The absolute path Chromium needs (its working directory is not ours to assume)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.resolve()


async def _run(chromium: str, arguments: list[str], timeout_s: float) -> str:
    with tempfile.TemporaryDirectory(prefix="ems-chromium-") as profile:
        process = await asyncio.create_subprocess_exec(
            chromium,
            *_FLAGS,
            f"--user-data-dir={profile}",
            *arguments,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout_s)
        except TimeoutError:
            raise BrowserError(f"chromium did not finish within {timeout_s:g} s") from None
        finally:
            _kill_group(process)
            await process.wait()
    if process.returncode != 0:
        tail = stderr.decode(errors="replace").strip()[-2000:]
        raise BrowserError(f"chromium exited with {process.returncode}: {tail}")
    return stdout.decode(errors="replace")


def _kill_group(process: asyncio.subprocess.Process) -> None:
    """Kill the browser's process group (its renderers and helpers outlive it otherwise)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
