"""`ems demo` as a newcomer runs it: a subprocess, read through its status API."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

CHARGERS = 10
URL_LINE = re.compile(r"Status page: (http://127\.0\.0\.1:\d+/)")
START_TIMEOUT_S = 20.0
OBSERVE_S = 20.0
STOP_TIMEOUT_S = 15.0

pytestmark = pytest.mark.timeout(80)


def ems_command() -> list[str]:
    """The installed console script beside this interpreter, else the same entry point."""
    script = Path(sys.executable).parent / "ems"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from adapters.cli.main import main; main()"]


def read_lines(stream: Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def wait_for_url(lines: queue.Queue[str], seen: list[str]) -> str:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(line)
        match = URL_LINE.search(line)
        if match:
            return match.group(1)
    raise AssertionError("no status page URL printed:\n" + "".join(seen))


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        body: bytes = response.read()
        return body


def get_json(url: str) -> Any:
    return json.loads(get(url))


def test_demo_runs_the_site_within_its_limit(tmp_path: Path) -> None:
    command = [
        *ems_command(),
        "demo",
        f"--chargers={CHARGERS}",
        "--speed=30",
        "--duration=60",
        "--no-table",
        "--http-port=0",
        f"--db={tmp_path / 'demo.sqlite'}",
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=read_lines, args=(process.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        base = wait_for_url(lines, seen)

        statuses = []
        deadline = time.monotonic() + OBSERVE_S
        while time.monotonic() < deadline:
            statuses.append(get_json(base + "api/status"))
            time.sleep(0.5)
        last = statuses[-1]

        chargers = get_json(base + "api/chargers")["chargers"]
        assert len(chargers) == CHARGERS
        assert all(c["connected"] for c in chargers), chargers
        assert {c["protocol"] for c in chargers} == {"ocpp1.6", "ocpp2.0.1"}

        assert len(last["sessions"]) >= 3, last["sessions"]
        states = [c["state"] for c in last["connectors"]]
        assert "charging" in states, last["connectors"]
        assert last["site"]["mode"] == "normal"
        assert last["counters"]["profiles_sent"] > 0

        for status in statuses:
            site = status["site"]
            for phase, current in site["current_a"].items():
                if current is not None:
                    assert current <= site["limit_a"][phase] + 1e-6, (status["at"], site)
        assert any(s["site"]["current_a"]["L1"] is not None for s in statuses)
        # The site is too small for every EV at once: the controller shares and pauses.
        bottlenecks = {b for s in statuses if s["allocation"] for b in s["allocation"]["binding"]}
        assert any(b.startswith("site-") for b in bottlenecks), bottlenecks
        assert any(c["state"] == "paused" for s in statuses for c in s["connectors"])

        metrics = get(base + "metrics").decode()
        for name in (
            "ems_site_current_amperes",
            "ems_site_limit_amperes",
            "ems_connector_allowed_amperes",
            "ems_connector_drawn_amperes",
            "ems_chargers_connected",
            "ems_controller_mode",
        ):
            assert f"\n{name}{{" in metrics or f"\n{name} " in metrics, name
        assert re.search(r'^ems_site_current_amperes\{phase="L1"\} \d', metrics, re.MULTILINE)

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=STOP_TIMEOUT_S) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        while not lines.empty():
            seen.append(lines.get())
        print("".join(seen))
    assert "demo stopped" in "".join(seen)
