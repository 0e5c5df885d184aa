"""The live price series: a file read again when it changes, a URL fetched with the file's
JSON field mapping; the last good series kept when a refresh fails, the failure logged
once naming the source (and the line and field of bad content). Against a real aiohttp
server on loopback and a real file."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from adapters.files.price_file import PriceFields
from adapters.files.tariff_config import PriceSource
from adapters.http.snapshot import PricesSource
from adapters.runtime.price_feed import PriceFeed
from ems.events import Event, PricesChanged
from optimizer.problem import PricePeriod

T0 = datetime(2025, 10, 7, tzinfo=UTC)
FIELDS = PriceFields(time="start", price="price", items="prices", scale=0.001)
GOOD = """{
  "prices": [
    {"start": "2025-10-07T00:00:00Z", "price": 92.5},
    {"start": "2025-10-07T01:00:00Z", "price": 120}
  ]
}
"""


@dataclass
class Endpoint:
    """What the price endpoint answers next."""

    status: int = 200
    body: str = GOOD
    hits: int = 0


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Events:
    seen: list[Event] = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        self.seen.append(event)

    @property
    def series(self) -> list[tuple[PricePeriod, ...]]:
        return [e.series for e in self.seen if isinstance(e, PricesChanged)]


@pytest.fixture
def endpoint() -> Endpoint:
    return Endpoint()


@pytest.fixture
async def url(endpoint: Endpoint) -> AsyncIterator[str]:
    async def prices(request: web.Request) -> web.Response:
        endpoint.hits += 1
        return web.Response(
            status=endpoint.status, text=endpoint.body, content_type="application/json"
        )

    app = web.Application()
    app.router.add_get("/day-ahead", prices)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/day-ahead"
    finally:
        await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def url_feed(url: str, events: Events, clock: Clock) -> PriceFeed:
    return PriceFeed(PriceSource(FIELDS, 900.0, url=url), events, clock)


async def test_a_url_is_read_with_the_field_mapping_and_the_scale(
    url: str, http: aiohttp.ClientSession
) -> None:
    events, clock = Events(), Clock()
    feed = url_feed(url, events, clock)
    assert feed.status(T0).age_s is None

    assert await feed.refresh(http)

    assert events.series == [
        (PricePeriod(T0, pytest.approx(0.0925)), PricePeriod(T0 + timedelta(hours=1), 0.12))
    ]
    assert events.seen[0].at == T0
    clock.now = T0 + timedelta(minutes=20)
    status = feed.status(clock.now)
    assert (status.name, status.age_s, status.error) == (url, 1200.0, None)


async def test_the_same_series_again_is_no_event_but_makes_it_fresh(
    url: str, http: aiohttp.ClientSession
) -> None:
    events, clock = Events(), Clock()
    feed = url_feed(url, events, clock)
    await feed.refresh(http)
    clock.now = T0 + timedelta(minutes=15)

    assert await feed.refresh(http)

    assert len(events.series) == 1
    assert feed.status(clock.now).age_s == 0.0


async def test_a_failing_url_keeps_the_last_good_series_and_logs_once(
    url: str, endpoint: Endpoint, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    events, clock = Events(), Clock()
    feed = url_feed(url, events, clock)
    await feed.refresh(http)
    endpoint.status, endpoint.body = 503, "down for maintenance"
    clock.now = T0 + timedelta(hours=2)

    with caplog.at_level(logging.DEBUG, logger="adapters.runtime.price_feed"):
        assert not await feed.refresh(http)
        assert not await feed.refresh(http)

    assert len(events.series) == 1
    status = feed.status(clock.now)
    assert status.age_s == 7200.0
    assert status.error == f"{url}: HTTP 503 Service Unavailable"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        f"prices: {url}: HTTP 503 Service Unavailable; the last good series is kept,"
        " retrying every 900 s"
    ]

    endpoint.status, endpoint.body = 200, GOOD
    assert await feed.refresh(http)
    assert feed.status(clock.now) == PricesSource(url, 0.0, None)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (GOOD.replace("120", '"dear"'), "4: prices[1].price: expected a finite number"),
        (GOOD.replace('"prices"', '"data"'), "1: expected an object with a list 'prices'"),
        (GOOD.replace("01:00:00Z", "01:00:00"), "4: prices[1].start: time"),
        ("{not json", "1: not valid JSON"),
    ],
)
async def test_bad_content_names_the_url_the_line_and_the_field(
    url: str, endpoint: Endpoint, http: aiohttp.ClientSession, body: str, where: str
) -> None:
    events = Events()
    feed = url_feed(url, events, Clock())
    endpoint.body = body

    assert not await feed.refresh(http)

    assert events.seen == []
    error = feed.status(T0).error
    assert error is not None
    assert error.startswith(f"{url}:{where}"), error


async def test_an_unreachable_url_is_an_error_naming_it(http: aiohttp.ClientSession) -> None:
    feed = url_feed("http://127.0.0.1:9/day-ahead", Events(), Clock())

    assert not await feed.refresh(http)

    error = feed.status(T0).error
    assert error is not None
    assert error.startswith("http://127.0.0.1:9/day-ahead: "), error


CSV = "timestamp,price_per_kwh\n2025-10-07T00:00:00Z,0.21\n2025-10-07T01:00:00Z,0.19\n"
CHANGED = "timestamp,price_per_kwh\n2025-10-07T00:00:00Z,0.25\n2025-10-07T01:00:00Z,0.18\n"


def touch(path: Path, text: str, at_s: int) -> None:
    """Write `text` with a modification time of its own (the file system's clock may not
    tell two quick writes apart)."""
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(at_s * 10**9, at_s * 10**9))


async def test_a_file_is_read_again_only_when_it_changed(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    path = tmp_path / "prices.csv"
    touch(path, CSV, 1_700_000_000)
    events, clock = Events(), Clock()
    started = (PricePeriod(T0, 0.21), PricePeriod(T0 + timedelta(hours=1), 0.19))
    feed = PriceFeed(PriceSource(PriceFields(), 60.0, path=path), events, clock, started)

    assert await feed.refresh(http)
    assert events.seen == []  # what the config read at start

    touch(path, CHANGED, 1_700_000_060)
    assert await feed.refresh(http)

    assert events.series == [
        (PricePeriod(T0, 0.25), PricePeriod(T0 + timedelta(hours=1), 0.18)),
    ]


async def test_a_bad_or_missing_file_keeps_the_last_good_series(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    path = tmp_path / "prices.csv"
    touch(path, CSV, 1_700_000_000)
    events, clock = Events(), Clock()
    feed = PriceFeed(PriceSource(PriceFields(), 60.0, path=path), events, clock)
    assert await feed.refresh(http)

    touch(path, CSV.replace("0.19", "n/a"), 1_700_000_060)
    assert not await feed.refresh(http)
    assert feed.status(T0).error == (
        f"{path}:3: column price_per_kwh: expected a finite number, got 'n/a'"
    )

    path.unlink()
    assert not await feed.refresh(http)
    error = feed.status(T0).error
    assert error is not None
    assert error.startswith(f"{path}: cannot read it"), error

    assert len(events.series) == 1
