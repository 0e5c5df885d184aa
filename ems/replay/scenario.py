"""A load scenario as plain data: the site, the charging sessions, and the time series
around them (base load, PV, site limit, prices). Loaded by `adapters.files.scenario`.

Time series are step functions: a value holds from its timestamp until the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ems.site import ConnectorConfig, SiteConfig
from ems.tariff import Tariff
from optimizer.problem import PhaseTriple, PowerPeriod, PricePeriod


@dataclass(frozen=True)
class SessionSpec:
    """One driver's visit: plugged in at `arrival`, leaves at `departure`, wants `energy_wh`.

    `connector` is the connector key (`"<charger_id>/<connector_id>"`). `phases` is how many
    phases the EV's on-board charger uses (1 or 3); a 1-phase EV on a 3-phase connector
    draws on the connector's first phase only. `battery_wh` sizes the simulated battery
    whose tail tapers the draw; None uses the default size.
    """

    session_id: str
    connector: str
    arrival: datetime
    departure: datetime
    energy_wh: float
    max_power_w: float
    phases: int = 3
    priority: float = 1.0
    battery_wh: float | None = None


@dataclass(frozen=True)
class BaseLoadPoint:
    """The site's own load (not ours) per phase, in A, from `at` on."""

    at: datetime
    current_a: PhaseTriple


@dataclass(frozen=True)
class LimitPoint:
    """The site limit from `at` on: per phase in A, and optionally a total power cap."""

    at: datetime
    phase_limit_a: float
    power_limit_w: float | None = None


@dataclass(frozen=True)
class PricePoint:
    """The energy price per kWh from `at` on."""

    at: datetime
    price_per_kwh: float


@dataclass(frozen=True)
class PvPoint:
    """The rooftop PV's production in W from `at` on; the site meter sees the base load
    less it (negative while the site exports)."""

    at: datetime
    power_w: float


@dataclass(frozen=True)
class Scenario:
    """Everything a replay needs."""

    name: str
    site: SiteConfig
    sessions: tuple[SessionSpec, ...]
    base_load: tuple[BaseLoadPoint, ...] = ()
    limits: tuple[LimitPoint, ...] = ()
    prices: tuple[PricePoint, ...] = ()
    pv: tuple[PvPoint, ...] = ()
    battery: str = "tapering"
    """The simulated batteries (`ems.replay.ev.BATTERIES`): `tapering` draws less above
    80 % state of charge, `ideal` takes its maximum until its request is met, as the
    research simulators (ACN-Sim) assume by default."""

    @property
    def start(self) -> datetime:
        """The earliest moment any input speaks of."""
        moments = [s.arrival for s in self.sessions]
        moments += [p.at for p in self.base_load] + [p.at for p in self.limits]
        moments += [p.at for p in self.prices] + [p.at for p in self.pv]
        return min(moments)

    @property
    def tariff(self) -> Tariff:
        """The site's tariff (`[tariff]` of its site.toml), with `prices` as its dynamic
        import prices."""
        if not self.prices:
            return self.site.tariff
        series = tuple(PricePeriod(p.at, p.price_per_kwh) for p in self.prices)
        return replace(self.site.tariff, series=series)

    @property
    def priced_site(self) -> SiteConfig:
        """The site as its controller sees it: with the scenario's prices in its tariff,
        and its PV and its base load as the forecasts its money is planned along (perfect
        forecasts: the replay measures the policy, not a forecaster)."""
        voltage_v = self.site.limits.voltage_v
        load = tuple(PowerPeriod(p.at, sum(p.current_a) * voltage_v) for p in self.base_load)
        pv = tuple(PowerPeriod(p.at, p.power_w) for p in self.pv)
        return replace(self.site, tariff=self.tariff, pv_forecast=pv, base_forecast=load)

    def connectors_by_key(self) -> dict[str, ConnectorConfig]:
        return {c.key: c for c in self.site.connectors()}
