"""A new dynamic price series put in force: the tariff's series is replaced wherever the
controller keeps the site (the configured site, the site in force, the state's copy of
the configured one), so that no later change of the site limit brings back the old one.
Prices only weigh money in the look-ahead: no limit changes with them."""

from __future__ import annotations

from dataclasses import replace

from ems.events import PricesChanged
from ems.site import SiteConfig
from ems.state import SiteState


def with_prices(state: SiteState, site: SiteConfig, event: PricesChanged) -> SiteConfig:
    """`site` (the configured one) with the event's series; `state` updated alike."""
    tariff = replace(site.tariff, series=event.series)
    state.site = replace(state.site, tariff=replace(state.site.tariff, series=event.series))
    state.configured = replace(state.configured, tariff=tariff)
    return replace(site, tariff=tariff)
