"""GET /metrics parses as Prometheus text and carries the snapshot's values."""

from __future__ import annotations

import dataclasses

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from adapters.http import HttpSettings, StatusServer
from tests.adapters.http.fakes import FakeActions, FakeSource


async def scrape(http: aiohttp.ClientSession, base_url: str) -> dict[str, list[Sample]]:
    async with http.get(f"{base_url}/metrics") as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        text = await response.text()
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def values(samples: list[Sample], **labels: str) -> dict[tuple[str, ...], float]:
    """Sample values keyed by the label values other than those fixed in `labels`."""
    chosen = {}
    for sample in samples:
        if all(sample.labels.get(k) == v for k, v in labels.items()):
            rest = tuple(v for k, v in sorted(sample.labels.items()) if k not in labels)
            chosen[rest] = sample.value
    return chosen


async def test_site_series(http: aiohttp.ClientSession, base_url: str) -> None:
    metrics = await scrape(http, base_url)

    assert values(metrics["ems_site_current_amperes"]) == {
        ("L1",): 23.8,
        ("L2",): 31.5,
        ("L3",): 24.8,
    }
    assert values(metrics["ems_site_limit_amperes"]) == {("L1",): 32, ("L2",): 32, ("L3",): 32}
    assert values(metrics["ems_site_base_load_amperes"]) == {("L1",): 8, ("L2",): 6, ("L3",): 9}
    assert values(metrics["ems_site_power_limit_watts"]) == {(): 22000}
    assert values(metrics["ems_meter_age_seconds"]) == {(): 1.5}
    assert values(metrics["ems_meter_valid"]) == {(): 1}
    assert values(metrics["ems_chargers_connected"]) == {(): 2}


async def test_connector_series(http: aiohttp.ClientSession, base_url: str) -> None:
    metrics = await scrape(http, base_url)

    allowed = metrics["ems_connector_allowed_amperes"]
    assert values(allowed, connector="cp1/1") == {("L1",): 16, ("L2",): 16, ("L3",): 16}
    assert values(allowed, connector="cp2/1") == {("L1",): 0, ("L2",): 10, ("L3",): 0}
    drawn = metrics["ems_connector_drawn_amperes"]
    assert values(drawn, connector="cp2/1") == {("L1",): 0, ("L2",): 9.7, ("L3",): 0}
    # cp3/1 has reported nothing: no series rather than a false 0 A.
    assert values(drawn, connector="cp3/1") == {}
    assert values(metrics["ems_connector_power_watts"], connector="cp1/1") == {(): 10900}
    assert values(metrics["ems_connector_state"], connector="cp2/2") == {
        ("charging",): 0,
        ("idle",): 0,
        ("paused",): 1,
    }


async def test_controller_series(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    metrics = await scrape(http, base_url)

    assert values(metrics["ems_profiles_sent"]) == {(): 57}  # exposed as ..._total
    assert metrics["ems_profiles_sent"][0].name == "ems_profiles_sent_total"
    assert values(metrics["ems_profiles_rejected"]) == {(): 2}
    assert values(metrics["ems_meter_errors"]) == {(): 1}
    assert values(metrics["ems_last_solve_seconds"]) == {(): 0.0425}
    solve = {s.name: s.value for s in metrics["ems_solve_duration_seconds"]}
    assert solve == {
        "ems_solve_duration_seconds_count": 360,
        "ems_solve_duration_seconds_sum": 14.4,
    }
    assert values(metrics["ems_controller_mode"]) == {("conservative",): 0, ("normal",): 1}
    assert values(metrics["ems_healthy"]) == {(): 1}

    site = dataclasses.replace(source.current.site, mode="conservative", meter_valid=False)
    source.current = dataclasses.replace(source.current, site=site)
    metrics = await scrape(http, base_url)

    assert values(metrics["ems_controller_mode"]) == {("conservative",): 1, ("normal",): 0}
    assert values(metrics["ems_healthy"]) == {(): 0}
    assert values(metrics["ems_meter_valid"]) == {(): 0}


async def test_unknown_values_are_left_out(
    http: aiohttp.ClientSession, base_url: str, source: FakeSource
) -> None:
    site = dataclasses.replace(
        source.current.site, current_a=(None, 5.0, None), meter_age_s=None, power_limit_w=None
    )
    source.current = dataclasses.replace(source.current, site=site, allocation=None)

    metrics = await scrape(http, base_url)

    assert values(metrics["ems_site_current_amperes"]) == {("L2",): 5}
    for absent in ("ems_meter_age_seconds", "ems_site_power_limit_watts", "ems_last_solve_seconds"):
        assert absent not in metrics


async def test_each_server_has_its_own_registry(http: aiohttp.ClientSession) -> None:
    other_source = FakeSource()
    other_source.current = dataclasses.replace(
        other_source.current, connectors=other_source.current.connectors[:1]
    )
    first = StatusServer(HttpSettings(port=0), FakeSource(), FakeActions())
    second = StatusServer(HttpSettings(port=0), other_source, FakeActions())
    await first.start()
    await second.start()
    try:
        one = await scrape(http, f"http://127.0.0.1:{first.port}")
        two = await scrape(http, f"http://127.0.0.1:{second.port}")
    finally:
        await first.stop()
        await second.stop()

    connectors = {s.labels["connector"] for s in one["ems_connector_allowed_amperes"]}
    assert connectors == {"cp1/1", "cp2/1", "cp2/2", "cp3/1"}
    assert {s.labels["connector"] for s in two["ems_connector_allowed_amperes"]} == {"cp1/1"}
