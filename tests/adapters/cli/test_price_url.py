"""`ems plan` and `ems check` read a configured `prices_url` once through the live feed's
code, against a real HTTP server on 127.0.0.1: the plan prices with what it answers, and
a failing endpoint is a warning, as it is for `ems run`. `ems check` also names the grid
operator's cap schedule and the PV meter it found."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.cli.main import cli
from tests.adapters.cli.test_plan import SITE_TOML, _snapshot, _write

PRICES = {
    "prices": [
        {"start": "2025-03-03T09:00:00Z", "price": 250.0},
        {"start": "2025-03-03T10:00:00Z", "price": 40.0},
        {"start": "2025-03-03T11:00:00Z", "price": 300.0},
    ]
}
TARIFF = """
[control]
lookahead = true

[tariff]
price_per_kwh = 0.30
prices_url = "{url}"
prices_time_field = "start"
prices_price_field = "price"
prices_list_field = "prices"
prices_scale = 0.001
"""


class Endpoint(BaseHTTPRequestHandler):
    answer: tuple[int, str] = (200, json.dumps(PRICES))

    def do_GET(self) -> None:
        status, body = self.server.answer  # type: ignore[attr-defined]
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads what the commands say."""


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    httpd.answer = (200, json.dumps(PRICES))  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


def config_for(tmp_path: Path, server: ThreadingHTTPServer) -> Path:
    url = f"http://127.0.0.1:{server.server_address[1]}/day-ahead"
    path = tmp_path / "site.toml"
    path.write_text(SITE_TOML + TARIFF.format(url=url))
    return path


def planned(tmp_path: Path, config: Path) -> tuple[int, dict[str, Any] | None, str]:
    snapshot = _snapshot()
    for charger_id in ("CP-A", "CP-B"):
        session = snapshot["chargers"][charger_id]["connectors"]["1"]["session"]
        session.update({"energy_need_wh": 10000, "departure": "2025-03-03T12:00:00Z"})
    state = str(_write(tmp_path, snapshot))
    args = ["plan", "--config", str(config), "--state", state, "--horizon", "3h", "--json"]
    result = CliRunner().invoke(cli, args)
    document = json.loads(result.stdout) if result.exit_code == 0 else None
    return result.exit_code, document, result.stderr


def test_plan_prices_with_what_the_url_answers(tmp_path: Path, server: ThreadingHTTPServer) -> None:
    code, document, _ = planned(tmp_path, config_for(tmp_path, server))
    assert code == 0
    assert document is not None
    prices = {p["from"]: p["price_per_kwh"] for p in document["money"]["prices"]}
    assert prices["2025-03-03T09:00:00Z"] == pytest.approx(0.25)
    assert prices["2025-03-03T10:00:00Z"] == pytest.approx(0.04)


def test_plan_warns_and_goes_on_without_the_series_when_the_url_fails(
    tmp_path: Path, server: ThreadingHTTPServer
) -> None:
    server.answer = (503, "down for maintenance")  # type: ignore[attr-defined]
    code, document, stderr = planned(tmp_path, config_for(tmp_path, server))
    assert code == 0
    assert document is not None
    assert "warning: prices: http://127.0.0.1:" in stderr
    assert "HTTP 503" in stderr
    prices = {p["from"]: p["price_per_kwh"] for p in document["money"]["prices"]}
    assert set(prices.values()) == {0.30}  # the fixed price


def test_check_shows_what_the_url_answers_and_warns_when_it_fails(
    tmp_path: Path, server: ThreadingHTTPServer
) -> None:
    config = config_for(tmp_path, server)
    store = ["--db", str(tmp_path / "ems.sqlite")]
    good = CliRunner().invoke(cli, ["check", "--config", str(config), *store])
    server.answer = (200, '{"prices": [{"start": "soon", "price": 1}]}')  # type: ignore[attr-defined]
    bad = CliRunner().invoke(cli, ["check", "--config", str(config), *store])

    assert good.exit_code == 0, good.output
    assert "/day-ahead: 3 periods from 2025-03-03T09:00:00+00:00" in good.stdout
    assert bad.exit_code == 0, bad.output
    assert "warning: prices: http://127.0.0.1:" in bad.stdout
    assert "prices[0].start" in bad.stdout


def test_check_names_the_grid_caps_and_the_pv_meter(tmp_path: Path) -> None:
    (tmp_path / "caps.csv").write_text("timestamp,limit_a\n2025-03-03T17:00:00Z,20\n")
    pv = '\n[[meters]]\nid = "roof"\nmap = "sunspec_inverter"\nhost = "192.0.2.60"\nrole = "pv"\n'
    text = SITE_TOML.replace("[site]\n", '[site]\ngrid_caps_file = "caps.csv"\n') + pv
    (tmp_path / "site.toml").write_text(text)
    args = ["check", "--config", str(tmp_path / "site.toml"), "--db", str(tmp_path / "e.sqlite")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "pv: roof (sunspec_inverter at 192.0.2.60)" in result.stdout
    assert "grid operator caps: 1 step in" in result.stdout
