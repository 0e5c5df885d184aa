"""The dynamic price series kept current while the controller runs.

`[tariff]` names a `prices_file` or a `prices_url` (`adapters.files.tariff_config`). Every
`prices_refresh_s` the feed looks at the file — and reads it again when its modification
time or size changed — or fetches the URL (JSON, read with the same field mapping as the
file's JSON). A new series goes to the controller as `PricesChanged`; prices only weigh
money in its plan, never a limit. When a refresh fails (the file is gone or half written,
the endpoint is down or answers nonsense) the last good series stays in force: the failure
is logged once, naming the source and, for bad content, the line and the field, and the
status page shows how old the series in force is until a refresh succeeds again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import aiohttp

from adapters.files.errors import InputFileError
from adapters.files.price_file import load_price_file, parse_prices
from adapters.files.tariff_config import PriceSource
from adapters.http.snapshot import PricesSource
from ems.events import Event, PricesChanged
from optimizer.problem import PricePeriod

LOG = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Series = tuple[PricePeriod, ...]
FETCH_TIMEOUT_S = 30.0
"""The most one fetch of the price URL may take (less when refreshes come more often)."""
MAX_BODY_BYTES = 4 * 1024 * 1024
"""A price endpoint's answer larger than this is refused: a year of quarter hours fits."""


class PriceFetchError(Exception):
    """A refresh that failed; its message names the source."""


class PriceFeed:
    """Refreshes the series from `source`; `series` is what the config read at start
    (from the file; empty for a URL), read at `loaded_at`."""

    def __init__(
        self,
        source: PriceSource,
        put: Callable[[Event], None],
        clock: Clock,
        series: Series = (),
    ) -> None:
        self._source = source
        self._put = put
        self._clock = clock
        self._series = series
        self._good_at: datetime | None = clock() if series else None
        self._seen: tuple[int, int] | None = None
        """The file's modification time and size when it was last read here."""
        self.error: str | None = None
        """Why the last refresh failed; None when it did not."""

    def status(self, now: datetime) -> PricesSource:
        """The source, the age of the series in force and the last refresh's error."""
        age_s = None
        if self._good_at is not None:
            age_s = max((now - self._good_at).total_seconds(), 0.0)
        return PricesSource(self._source.name, age_s, self.error)

    async def run(self) -> None:
        """Refresh now and then every `refresh_s`, until cancelled."""
        async with aiohttp.ClientSession() as http:
            while True:
                await self.refresh(http)
                await asyncio.sleep(self._source.refresh_s)

    async def refresh(self, http: aiohttp.ClientSession) -> bool:
        """One refresh; False (and the last good series kept) when it failed."""
        try:
            series = await self._read(http)
        except PriceFetchError as error:
            self._failed(str(error))
            return False
        except Exception as error:  # a price source never takes the controller down
            self._failed(f"{self._source.name}: {error!r}")
            return False
        if self.error is not None:
            LOG.info("prices from %s: read again", self._source.name)
            self.error = None
        self._good_at = self._clock()
        if series is not None and series != self._series:
            self._series = series
            LOG.info(
                "prices from %s: %d periods from %s",
                self._source.name,
                len(series),
                series[0].start.isoformat(),
            )
            self._put(PricesChanged(self._good_at, series))
        return True

    def _failed(self, message: str) -> None:
        """Logged once until a refresh succeeds again (then at debug level)."""
        kept = "the last good series is kept" if self._series else "no series yet"
        if self.error is None:
            LOG.error("prices: %s; %s, retrying every %g s", message, kept, self._source.refresh_s)
        else:
            LOG.debug("prices: %s", message)
        self.error = message

    async def _read(self, http: aiohttp.ClientSession) -> Series | None:
        """The series from the source; None for a file that did not change."""
        if self._source.path is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, self._read_file, self._source.path)
        assert self._source.url is not None, "a source is a file or a URL"
        return await self._fetch(http, self._source.url)

    def _read_file(self, path: Path) -> Series | None:
        try:
            stamp = _file_stamp(path)
        except OSError as error:
            raise PriceFetchError(f"{path}: cannot read it ({error.strerror})") from None
        if stamp == self._seen:
            return None
        try:
            series = load_price_file(path, self._source.fields)
        except InputFileError as error:
            raise PriceFetchError(str(error)) from None
        self._seen = stamp
        return series

    async def _fetch(self, http: aiohttp.ClientSession, url: str) -> Series:
        timeout = aiohttp.ClientTimeout(total=min(FETCH_TIMEOUT_S, self._source.refresh_s))
        try:
            async with http.get(url, timeout=timeout) as response:
                if response.status != 200:
                    raise PriceFetchError(f"{url}: HTTP {response.status} {response.reason}")
                body = await response.content.read(MAX_BODY_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise PriceFetchError(f"{url}: {_describe(error)}") from None
        if len(body) > MAX_BODY_BYTES:
            raise PriceFetchError(f"{url}: the answer is larger than {MAX_BODY_BYTES} bytes")
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise PriceFetchError(f"{url}: the answer is not UTF-8") from None
        try:
            return parse_prices(url, text, self._source.fields, as_json=True)
        except InputFileError as error:
            raise PriceFetchError(str(error)) from None


def _file_stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "no answer in time"
    return str(error) or type(error).__name__


def price_feed(
    source: PriceSource | None, series: Series, put: Callable[[Event], None], clock: Clock
) -> PriceFeed | None:
    """The feed of a config's price source (`series`: what the config read at start);
    None without one."""
    return None if source is None else PriceFeed(source, put, clock, series)


async def fetch_prices(source: PriceSource, clock: Clock) -> Series:
    """The series from `source`, read once as the live feed reads it, for the commands
    that run no controller (`ems plan`, `ems check`). Raises `PriceFetchError` naming the
    source (and the line and field of bad content)."""
    read: list[Series] = []

    def keep(event: Event) -> None:
        if isinstance(event, PricesChanged):
            read.append(event.series)

    feed = PriceFeed(source, keep, clock)
    async with aiohttp.ClientSession() as http:
        if not await feed.refresh(http):
            raise PriceFetchError(feed.error or source.name)
    return read[-1] if read else ()
