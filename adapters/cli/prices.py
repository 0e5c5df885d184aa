"""A config's price URL read once for the commands that run no controller, through the
live feed's own code (`adapters.runtime.price_feed`): `ems plan` plans with the series it
answers, as `ems run` would; `ems check` shows what it answers. A URL that fails is a
warning, as it is for `ems run`, which starts all the same and plans without the series."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from adapters.clock import utc_now
from adapters.files.tariff_config import PriceSource
from adapters.runtime.price_feed import PriceFetchError, fetch_prices
from ems.site import SiteConfig
from optimizer.problem import PricePeriod


def read_price_url(source: PriceSource | None) -> tuple[PricePeriod, ...] | PriceFetchError | None:
    """The series the source's URL answers now, the error it failed with, or None when the
    source is no URL (a prices file is read with the config)."""
    if source is None or source.url is None:
        return None
    try:
        return asyncio.run(fetch_prices(source, utc_now))
    except PriceFetchError as error:
        return error


def with_url_prices(site: SiteConfig, read: tuple[PricePeriod, ...]) -> SiteConfig:
    """The site with the series read from its price URL as its dynamic prices."""
    return replace(site, tariff=replace(site.tariff, series=read))


def describe(source: PriceSource, read: tuple[PricePeriod, ...] | PriceFetchError) -> str:
    """One line on what the URL answered."""
    if isinstance(read, PriceFetchError):
        return f"prices: {read}; `ems run` starts without them and keeps trying"
    if not read:
        return f"prices: {source.name} answered no prices"
    return (
        f"prices: {source.name}: {len(read)} periods from {read[0].start.isoformat()}"
        f" to {read[-1].start.isoformat()}"
    )
