"""Headless Chromium on the status page: its DOM after the scripts ran, a screenshot, or
a value computed in the page (its layout at a phone's width, say) over the DevTools
protocol.

Used by the page's browser tests and to make the README's screenshot. Each run gets a
throw-away profile, a time limit, and its own process group, so a hung browser is killed
together with every helper process it started, and with nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

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


_POLL_S = 0.1


class BrowserError(Exception):
    """Chromium failed, or did not finish in time."""


@dataclass(frozen=True)
class Viewport:
    """The screen the page is shown on; `mobile` makes Chromium honour the page's
    `<meta name="viewport">` as a phone does."""

    width: int
    height: int
    mobile: bool = False
    scale: float = 1.0


PHONE = Viewport(390, 844, mobile=True, scale=3.0)
"""A 6.1-inch phone held upright (390 CSS pixels wide)."""


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


async def evaluate(
    url: str,
    expression: str,
    *,
    ready: str,
    viewport: Viewport = PHONE,
    chromium: str = CHROMIUM,
    timeout_s: float = 60.0,
) -> Any:
    """The JSON value of the JavaScript `expression` in the page at `url` shown on
    `viewport`, once the expression `ready` is true (the page's scripts have rendered);
    a promise's value once it settles (an `async` expression that clicks and waits)."""
    with tempfile.TemporaryDirectory(prefix="ems-chromium-") as profile:
        process = await asyncio.create_subprocess_exec(
            chromium,
            *_FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            async with asyncio.timeout(timeout_s):
                devtools_url = await _devtools_url(process, Path(profile))
                async with connect(devtools_url, max_size=None, proxy=None) as socket:
                    page = await _open_page(_DevTools(socket), viewport, url)
                    await page.wait_for(ready)
                    return await page.value(expression)
        except TimeoutError:
            raise BrowserError(f"chromium did not finish within {timeout_s:g} s") from None
        finally:
            _kill_group(process)
            await process.wait()


async def _devtools_url(process: asyncio.subprocess.Process, profile: Path) -> str:
    """The browser's DevTools socket, from the file Chromium writes into its profile once
    it listens (its port, then the socket's path)."""
    while process.returncode is None:
        lines = (await asyncio.to_thread(_text_of, profile / "DevToolsActivePort")).split()
        if len(lines) >= 2:
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        await asyncio.sleep(_POLL_S)
    raise BrowserError(f"chromium exited with {process.returncode} before opening DevTools")


def _text_of(path: Path) -> str:
    """The file's text; empty while it does not exist yet."""
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


class _DevTools:
    """Calls over one DevTools socket; the events in between are of no interest here."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    async def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        await self._socket.send(json.dumps(message))
        while True:
            reply = json.loads(await self._socket.recv())
            if reply.get("id") != message_id:
                continue
            if "error" in reply:
                raise BrowserError(f"{method}: {reply['error'].get('message')}")
            result: dict[str, Any] = reply.get("result", {})
            return result


@dataclass(frozen=True)
class _Page:
    devtools: _DevTools
    session: str

    async def value(self, expression: str) -> Any:
        params = {"expression": expression, "returnByValue": True, "awaitPromise": True}
        result = await self.devtools.call("Runtime.evaluate", params, self.session)
        if "exceptionDetails" in result:
            detail = result["exceptionDetails"].get("exception", {}).get("description")
            raise BrowserError(f"the page could not evaluate {expression!r}: {detail}")
        return result["result"].get("value")

    async def wait_for(self, condition: str) -> None:
        """Poll: a navigating page has no event the condition could be awaited on (a
        promise evaluated in it dies with the document it ran in)."""
        while not await self.value(f"Boolean({condition})"):  # noqa: ASYNC110
            await asyncio.sleep(_POLL_S)


async def _open_page(devtools: _DevTools, viewport: Viewport, url: str) -> _Page:
    """A new tab showing `url` on `viewport`."""
    target = await devtools.call("Target.createTarget", {"url": "about:blank"})
    attached = await devtools.call(
        "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
    )
    page = _Page(devtools, attached["sessionId"])
    metrics = {
        "width": viewport.width,
        "height": viewport.height,
        "deviceScaleFactor": viewport.scale,
        "mobile": viewport.mobile,
    }
    await devtools.call("Emulation.setDeviceMetricsOverride", metrics, page.session)
    await devtools.call("Page.navigate", {"url": url}, page.session)
    return page


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
