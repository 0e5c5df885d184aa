"""The load history behind the page's chart: recorded by the server, served as JSON."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import aiohttp

from adapters.http import HttpSettings, StatusServer, StatusSnapshot
from adapters.http.history import LoadHistory
from tests.adapters.http.fakes import NOW, FakeActions, FakeSource, sample_snapshot


def at(seconds: float, current: tuple[float, float, float] = (1.0, 2.0, 3.0)) -> StatusSnapshot:
    snapshot = sample_snapshot(NOW + timedelta(seconds=seconds))
    return dataclasses.replace(snapshot, site=dataclasses.replace(snapshot.site, current_a=current))


def test_keeps_the_span_and_skips_samples_that_are_not_newer() -> None:
    history = LoadHistory(span_s=20, interval_s=5)
    for seconds in (0, 5, 5, 3, 10, 15, 20, 25):
        history.record(at(seconds))

    assert [(s.at - NOW).total_seconds() for s in history.samples()] == [5, 10, 15, 20, 25]


async def test_served_and_sampled_while_running(http: aiohttp.ClientSession) -> None:
    history = LoadHistory(span_s=60, interval_s=0.01)
    history.record(at(-30, current=(10.0, 11.0, 12.0)))
    source = FakeSource()
    server = StatusServer(HttpSettings(port=0), source, FakeActions(), history)
    await server.start()
    try:
        for _ in range(100):
            if len(history.samples()) == 2:
                break
            await asyncio.sleep(0.01)
        async with http.get(f"http://127.0.0.1:{server.port}/api/history") as response:
            assert response.status == 200
            document = await response.json()
    finally:
        await server.stop()

    assert document["interval_s"] == 0.01
    assert document["samples"] == [
        {
            "at": "2024-05-06T14:29:30Z",
            "current_a": {"L1": 10.0, "L2": 11.0, "L3": 12.0},
            "limit_a": {"L1": 32.0, "L2": 32.0, "L3": 32.0},
        },
        {
            "at": "2024-05-06T14:30:00Z",
            "current_a": {"L1": 23.8, "L2": 31.5, "L3": 24.8},
            "limit_a": {"L1": 32.0, "L2": 32.0, "L3": 32.0},
        },
    ]


async def test_a_failing_snapshot_does_not_stop_the_sampler() -> None:
    class Flaky(FakeSource):
        calls = 0

        def snapshot(self) -> StatusSnapshot:
            self.calls += 1
            if self.calls == 1:
                raise RuntimeError("controller busy")
            return super().snapshot()

    history = LoadHistory(span_s=60, interval_s=0.01)
    server = StatusServer(HttpSettings(port=0), Flaky(), FakeActions(), history)
    await server.start()
    try:
        for _ in range(100):
            if history.samples():
                break
            await asyncio.sleep(0.01)
    finally:
        await server.stop()

    assert len(history.samples()) == 1
