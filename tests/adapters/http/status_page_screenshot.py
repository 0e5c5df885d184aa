"""Screenshot of the status page showing the sample site, for the README.

    .venv/bin/python -m tests.adapters.http.status_page_screenshot [docs/status-page.png]

The page is served from a real StatusServer on loopback, fed by the test fakes and five
minutes of made-up load history (an EV arriving on cp2/1 pushes L2 to its limit).
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import sys
from datetime import timedelta
from pathlib import Path

from adapters.http import HttpSettings, StatusServer
from adapters.http.browser import find_chromium, screenshot
from adapters.http.history import LoadHistory
from tests.adapters.http.fakes import FakeActions, FakeSource, sample_snapshot

DEFAULT_PATH = Path("docs/status-page.png")


def recorded_history() -> LoadHistory:
    history = LoadHistory()
    final = sample_snapshot()
    steps = 60
    for step in range(steps + 1):
        seconds_ago = (steps - step) * history.interval_s
        wobble = math.sin(step / 4.0)
        arrived = 9.7 if step > 25 else 0.0
        current = (
            23.8 + 0.8 * wobble,
            21.8 + arrived + 0.6 * wobble,
            24.8 + 0.5 * math.cos(step / 5.0),
        )
        site = dataclasses.replace(final.site, current_a=current)
        at = final.at - timedelta(seconds=seconds_ago)
        history.record(dataclasses.replace(final, at=at, site=site))
    return history


async def take(path: Path) -> Path:
    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("Chromium is not installed (/usr/bin/chromium)")
    server = StatusServer(HttpSettings(port=0), FakeSource(), FakeActions(), recorded_history())
    await server.start()
    try:
        return await screenshot(
            f"http://127.0.0.1:{server.port}/", path, chromium=chromium, timeout_s=90
        )
    finally:
        await server.stop()


if __name__ == "__main__":
    written = asyncio.run(take(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH))
    print(f"wrote {written}")
