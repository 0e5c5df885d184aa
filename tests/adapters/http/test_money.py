"""The money side — the price now and ahead, the demand charge's peak against the planned
cap, the site's export, each connector's charging mode, the price series' age — in
/api/status, /metrics and on the page, against a real server on loopback."""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp

from adapters.http.browser import dump_dom
from tests.adapters.http.fakes import FakeSource
from tests.adapters.http.test_api import get
from tests.adapters.http.test_metrics import scrape, values
from tests.adapters.http.test_page import CHROMIUM, needs_chromium, rendered_rows


def change(source: FakeSource, part: str, **fields: Any) -> None:
    changed = dataclasses.replace(getattr(source.current, part), **fields)
    source.current = dataclasses.replace(source.current, **{part: changed})


async def test_status_shows_the_price_now_and_ahead_and_the_peak_against_the_cap(
    http: aiohttp.ClientSession, base_url: str
) -> None:
    status = await get(http, f"{base_url}/api/status")

    assert status["money"] == {
        "price_per_kwh": 0.215,
        "prices_ahead": [
            {"from": "2024-05-06T14:30:00Z", "price_per_kwh": 0.215},
            {"from": "2024-05-06T15:00:00Z", "price_per_kwh": 0.312},
            {"from": "2024-05-06T16:00:00Z", "price_per_kwh": 0.1875},
        ],
        "export_price_per_kwh": 0.07,
        "demand": {
            "charge_per_kw": 12.5,
            "window_s": 900.0,
            "period_start": "2024-05-01T00:00:00Z",
            "peak_kw": 21.3,
            "planned_cap_kw": 21.3,
        },
        "prices_source": {"name": "http://prices.test/day-ahead", "age_s": 300.0, "error": None},
        "load_ahead": [
            {"from": "2024-05-06T14:30:00Z", "kw": 8.4},
            {"from": "2024-05-06T15:00:00Z", "kw": 17.2},
            {"from": "2024-05-06T15:15:00Z", "kw": 9.1},
        ],
    }
    assert [c["charging_mode"] for c in status["connectors"]] == [
        "planned",
        "fast",
        "planned",
        "planned",
    ]


async def test_a_site_without_a_tariff_shows_no_money(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    source.current = dataclasses.replace(source.current, money=None)

    status = await get(http, f"{base_url}/api/status")
    metrics = await scrape(http, base_url)

    assert status["money"] is None
    assert "ems_price_per_kwh" not in metrics
    assert "ems_demand_peak_watts" not in metrics


async def test_export_shows_where_the_meter_reads_a_negative_import(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    change(source, "site", net_import_w=-4200.0)

    site = await get(http, f"{base_url}/api/site")
    metrics = await scrape(http, base_url)

    assert site["net_import_w"] == -4200.0
    assert site["export_w"] == 4200.0
    assert values(metrics["ems_site_net_import_watts"]) == {(): -4200.0}


async def test_an_unknown_net_import_is_null_and_no_series(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    change(source, "site", net_import_w=None)

    site = await get(http, f"{base_url}/api/site")
    metrics = await scrape(http, base_url)

    assert site["net_import_w"] is None
    assert site["export_w"] is None
    assert "ems_site_net_import_watts" not in metrics


async def test_metrics_carry_the_price_the_peak_the_cap_and_the_modes(
    http: aiohttp.ClientSession, base_url: str
) -> None:
    metrics = await scrape(http, base_url)

    assert values(metrics["ems_price_per_kwh"]) == {(): 0.215}
    assert values(metrics["ems_export_price_per_kwh"]) == {(): 0.07}
    assert values(metrics["ems_demand_charge_per_kw"]) == {(): 12.5}
    assert values(metrics["ems_demand_peak_watts"]) == {(): 21300.0}
    assert values(metrics["ems_demand_planned_cap_watts"]) == {(): 21300.0}
    assert values(metrics["ems_connector_charging_mode"], connector="cp2/1") == {
        ("fast",): 1.0,
        ("min+solar",): 0.0,
        ("planned",): 0.0,
        ("solar",): 0.0,
    }
    source = "http://prices.test/day-ahead"
    assert values(metrics["ems_prices_age_seconds"]) == {(source,): 300.0}
    assert values(metrics["ems_prices_refresh_failing"]) == {(source,): 0.0}


async def test_a_failed_refresh_shows_with_the_age_of_the_series_kept(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    money = source.current.money
    assert money is not None
    assert money.prices_source is not None
    failing = dataclasses.replace(
        money.prices_source, age_s=5400.0, error="http://prices.test/day-ahead: HTTP 503"
    )
    change(source, "money", prices_source=failing)

    status = await get(http, f"{base_url}/api/status")
    metrics = await scrape(http, base_url)

    assert status["money"]["prices_source"] == {
        "name": "http://prices.test/day-ahead",
        "age_s": 5400.0,
        "error": "http://prices.test/day-ahead: HTTP 503",
    }
    assert values(metrics["ems_prices_refresh_failing"]) == {("http://prices.test/day-ahead",): 1.0}
    assert values(metrics["ems_prices_age_seconds"]) == {("http://prices.test/day-ahead",): 5400.0}


@needs_chromium
async def test_page_shows_the_money_the_export_and_the_modes(
    base_url: str, source: FakeSource
) -> None:
    assert CHROMIUM is not None
    change(source, "site", net_import_w=-4200.0)

    dom = await dump_dom(f"{base_url}/", chromium=CHROMIUM, timeout_s=90)

    assert '<span id="price-now" class="value">0.2150 /kWh</span>' in dom
    assert '<span id="demand-peak" class="value">21.3 kW</span>' in dom
    assert "planned cap 21.3 kW · 12.5 per kW above it" in dom
    assert 'data-from="2024-05-06T15:00:00Z"' in dom
    assert "http://prices.test/day-ahead · 5 min old" in dom
    assert "exporting 4.2 kW" in dom
    assert rendered_rows(dom).rows["cp2/1"]["mode"] == "fast"
    assert "highest 17.2 kW at " in dom
    assert " · 8.4 kW now" in dom


@needs_chromium
async def test_page_says_when_the_buildings_load_is_not_learned_yet(
    base_url: str, source: FakeSource
) -> None:
    assert CHROMIUM is not None
    change(source, "money", load_ahead=())

    dom = await dump_dom(f"{base_url}/", chromium=CHROMIUM, timeout_s=90)

    assert "not learned yet: it takes a day of site meter readings" in dom


@needs_chromium
async def test_page_hides_the_money_without_a_tariff(base_url: str, source: FakeSource) -> None:
    assert CHROMIUM is not None
    source.current = dataclasses.replace(source.current, money=None)

    dom = await dump_dom(f"{base_url}/", chromium=CHROMIUM, timeout_s=90)

    assert 'id="money" class="card facts" aria-labelledby="money-title" hidden' in dom
    assert 'id="export" class="badge ok" hidden' in dom
