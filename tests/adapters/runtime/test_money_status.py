"""The money side of the running site: the price now, the billing period's peak so far
(kept in the store across a restart, dropped at the turn of the month) and each
connector's charging mode, through the JSON API and /metrics. The site has no meter: its
virtual one reads the worst base load, 10 A on each phase (6.9 kW), every second."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from adapters.files.app_config import load_app_config
from adapters.runtime import SiteRuntime
from adapters.runtime.demand_memory import DEMAND_SETTING
from adapters.storage.sqlite import SqliteStore
from tests.adapters.runtime.site import SITE_TOML, stored_setting
from tests.e2e.rig import wait_until

TARIFF_TOML = """
[tariff]
price_per_kwh = 0.25
export_price_per_kwh = 0.08
demand_charge_per_kw = 10.0
demand_window_min = 0.02
"""
"""Windows of 1.2 s, so that one closes within seconds."""

BASE_LOAD_W = 3 * 10 * 230.0


def priced_site(directory: Path) -> Path:
    path = directory / "site.toml"
    text = SITE_TOML.format(ocpp_port=0).replace('id = "CP2"\n', 'id = "CP2"\nmode = "solar"\n')
    path.write_text(text + TARIFF_TOML, encoding="utf-8")
    return path


async def fetch(runtime: SiteRuntime, path: str) -> str:
    url = f"http://127.0.0.1:{runtime.http_port}{path}"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        return await response.text()


async def metric(runtime: SiteRuntime, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for family in text_string_to_metric_families(await fetch(runtime, "/metrics")):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def this_month() -> datetime:
    return datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def peak_observed(runtime: SiteRuntime) -> None:
    """A whole window observed (the first one, begun before the first reading, counts
    nothing for the time before it)."""
    await wait_until(
        lambda: runtime.view().demand_peak_w >= 0.99 * BASE_LOAD_W, 15, "a whole demand window"
    )


async def test_the_status_shows_the_price_the_peak_and_the_modes(tmp_path: Path) -> None:
    runtime = SiteRuntime(load_app_config(priced_site(tmp_path)))
    await runtime.start()
    try:
        await peak_observed(runtime)
        status: dict[str, Any] = json.loads(await fetch(runtime, "/api/status"))
        peak = await metric(runtime, "ems_demand_peak_watts")
        price = await metric(runtime, "ems_price_per_kwh")
        modes = await metric(runtime, "ems_connector_charging_mode")
    finally:
        await runtime.stop()

    money = status["money"]
    assert money["price_per_kwh"] == 0.25
    assert money["prices_ahead"][0]["price_per_kwh"] == 0.25
    assert money["export_price_per_kwh"] == 0.08
    assert money["demand"]["charge_per_kw"] == 10.0
    assert money["demand"]["window_s"] == pytest.approx(1.2)
    assert money["demand"]["peak_kw"] == pytest.approx(BASE_LOAD_W / 1000, rel=0.01)
    assert money["demand"]["planned_cap_kw"] == money["demand"]["peak_kw"]
    assert money["demand"]["period_start"] == this_month().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert money["prices_source"] is None
    assert status["site"]["net_import_w"] == pytest.approx(BASE_LOAD_W)
    assert status["site"]["export_w"] == 0.0
    by_key = {c["key"]: c["charging_mode"] for c in status["connectors"]}
    assert by_key == {"CP1/1": "planned", "CP2/1": "solar", "CP3/1": "planned"}
    assert list(peak.values()) == [pytest.approx(BASE_LOAD_W, rel=0.01)]
    assert list(price.values()) == [0.25]
    assert modes[(("connector", "CP2/1"), ("mode", "solar"))] == 1.0
    assert modes[(("connector", "CP2/1"), ("mode", "planned"))] == 0.0


async def test_a_restart_keeps_the_billing_periods_peak(tmp_path: Path) -> None:
    config = load_app_config(priced_site(tmp_path))
    first = SiteRuntime(config)
    await first.start()
    try:
        await peak_observed(first)
    finally:
        await first.stop()
    remembered = stored_setting(config.store.path, DEMAND_SETTING)
    assert remembered is not None
    assert remembered["peak_w"] == pytest.approx(BASE_LOAD_W, rel=0.01)

    second = SiteRuntime(config)
    await second.start()
    try:
        view = second.view()  # the remembered events handled, before any window closed
        status = json.loads(await fetch(second, "/api/status"))
    finally:
        await second.stop()

    assert view.demand_peak_w == remembered["peak_w"]
    assert view.demand_period_start == this_month()
    assert status["money"]["demand"]["peak_kw"] == pytest.approx(remembered["peak_w"] / 1000)


async def test_a_peak_of_an_earlier_billing_month_is_dropped(tmp_path: Path) -> None:
    config = load_app_config(priced_site(tmp_path))
    store = SqliteStore(config.store.path)
    try:
        last_year = {"period_start": "2020-01-01T00:00:00+00:00", "peak_w": 50000.0}
        store.put_setting(DEMAND_SETTING, last_year, datetime(2020, 1, 31, tzinfo=UTC))
    finally:
        store.close()

    runtime = SiteRuntime(config)
    await runtime.start()
    try:
        at_start = runtime.view()
        await peak_observed(runtime)
        later = runtime.view()
    finally:
        await runtime.stop()
    store = SqliteStore(config.store.path)
    try:
        remembered = store.get_setting(DEMAND_SETTING)
    finally:
        store.close()

    assert at_start.demand_peak_w == 0.0
    assert later.demand_period_start == this_month()
    assert later.demand_peak_w == pytest.approx(BASE_LOAD_W, rel=0.01)
    assert remembered is not None
    assert remembered["period_start"] == this_month().isoformat()


async def test_prices_from_a_url_reach_the_controller_and_the_status(tmp_path: Path) -> None:
    """The endpoint's series (per MWh, under its own field names) is what the controller
    prices now with; the status names the URL and the series' age."""
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    points = [
        {"begin": (hour + timedelta(hours=h)).isoformat(), "eur_mwh": 100.0 + 50.0 * h}
        for h in range(-1, 3)
    ]

    async def prices(request: web.Request) -> web.Response:
        return web.json_response({"data": points})

    app = web.Application()
    app.router.add_get("/prices", prices)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/prices"
    path = priced_site(tmp_path)
    path.write_text(
        path.read_text()
        + f'prices_url = "{url}"\nprices_list_field = "data"\nprices_time_field = "begin"\n'
        + 'prices_price_field = "eur_mwh"\nprices_scale = 0.001\nprices_refresh_s = 600\n'
    )
    runtime = SiteRuntime(load_app_config(path))
    await runtime.start()
    try:
        await wait_until(
            lambda: runtime.view().price_per_kwh != 0.25, 15, "a price off the URL, not the fixed"
        )
        status = json.loads(await fetch(runtime, "/api/status"))
        age = await metric(runtime, "ems_prices_age_seconds")
    finally:
        await runtime.stop()
        await runner.cleanup()

    at = datetime.fromisoformat(status["at"])
    now = max(h for h in range(-1, 3) if hour + timedelta(hours=h) <= at)
    money = status["money"]
    assert money["price_per_kwh"] == pytest.approx(0.1 + 0.05 * now)
    ahead = [p["price_per_kwh"] for p in money["prices_ahead"]]
    assert ahead == pytest.approx([0.1 + 0.05 * h for h in range(now, 3)] + [0.25])
    assert money["prices_source"]["name"] == url
    assert money["prices_source"]["error"] is None
    assert money["prices_source"]["age_s"] >= 0.0
    assert list(age) == [(("source", url),)]
