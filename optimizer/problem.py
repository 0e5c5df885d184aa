"""The allocation problem as plain data: what the optimizer is asked.

Units: currents in amperes per phase, power in W, energy in Wh, durations in seconds,
times as aware UTC datetimes. Phases are always *site* phases: the caller has already
applied each connector's phase rotation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

DEFAULT_MIN_CURRENT_A = 6.0
DEFAULT_VOLTAGE_V = 230.0


class Phase(IntEnum):
    """A site phase. The integer value is the index into per-phase tuples."""

    L1 = 0
    L2 = 1
    L3 = 2


PhaseTriple = tuple[float, float, float]


@dataclass(frozen=True)
class SiteLimits:
    """The main fuse (per phase) and an optional cap on total power."""

    phase_limit_a: float
    power_limit_w: float | None = None
    voltage_v: float = DEFAULT_VOLTAGE_V


@dataclass(frozen=True)
class Circuit:
    """A sub-feeder with its own per-phase limit; `parent` None means it hangs on the site."""

    id: str
    limit_a: float
    parent: str | None = None


@dataclass(frozen=True)
class Connector:
    """One controllable outlet and, if present, the EV behind it.

    `phases` lists the site phases the connector is wired to, in connector order
    (a 3-phase connector rotated L2-L3-L1 is `(L2, L3, L1)`; a 1-phase one on site L2 is
    `(L2,)`). `ev_phases` is the subset of those the EV actually draws on (observed from
    per-phase meter values); None means all of the connector's phases.
    """

    id: str
    phases: tuple[Phase, ...]
    max_current_a: float
    circuit: str | None = None
    min_current_a: float = DEFAULT_MIN_CURRENT_A
    ev_present: bool = False
    ev_phases: tuple[Phase, ...] | None = None
    ev_max_current_a: float | None = None
    priority: float = 1.0
    arrival: datetime | None = None
    departure: datetime | None = None
    energy_need_wh: float | None = None
    previous_current_a: float | None = None
    ev_tapering: bool = False
    """The EV was seen drawing clearly less than it was allowed (`ems.closed_loop`): a
    battery in its tail, or an EV below its connector's maximum. The look-ahead plans its
    battery's tail in the present step too (`optimizer.lookahead`)."""

    @property
    def active_phases(self) -> tuple[Phase, ...]:
        """The site phases a present EV draws on."""
        return self.ev_phases if self.ev_phases is not None else self.phases


@dataclass(frozen=True)
class Horizon:
    """Optional multi-period look-ahead: `steps` steps of `step_s` seconds from `start`.

    Per-step series, when given, have exactly `steps` entries: base-load forecast per phase,
    energy price per kWh, and site per-phase limit. `peak_price_per_kw` adds a demand-charge
    term on the highest site power over the horizon.
    """

    start: datetime
    step_s: float
    steps: int
    base_load_a: tuple[PhaseTriple, ...] | None = None
    price_per_kwh: tuple[float, ...] | None = None
    phase_limit_a: tuple[float, ...] | None = None
    peak_price_per_kw: float | None = None


@dataclass(frozen=True)
class PricePeriod:
    """The import price per kWh from `start` on (until the next period starts)."""

    start: datetime
    price_per_kwh: float


@dataclass(frozen=True)
class PowerPeriod:
    """A power in W from `start` on (until the next period starts)."""

    start: datetime
    power_w: float


@dataclass(frozen=True)
class Lookahead:
    """Plan the step applied now against the departures of the sessions that stated
    them (see `optimizer.lookahead`): the step starts at `start` and lasts `step_s`.

    Money, ranked below the energy by the departures (see `optimizer.lookahead`):
    `prices` is the import price as a step function (the first price also holds before
    its start, the last after it); `peak_price_per_kw` a demand charge on the highest site
    import, of which `peak_so_far_w` is already paid for in the billing period.
    `base_import` is what the site is expected to import besides the steered sessions (W,
    negative while PV exports, a step function); energy taken from an export is priced at
    `export_price_per_kwh`, the feed-in it forgoes. Money only: the limits are planned
    with the measured base load, never with this.
    """

    start: datetime
    step_s: float
    prices: tuple[PricePeriod, ...] = ()
    peak_price_per_kw: float = 0.0
    peak_so_far_w: float = 0.0
    base_import: tuple[PowerPeriod, ...] = ()
    export_price_per_kwh: float = 0.0

    @property
    def has_money(self) -> bool:
        """Whether anything here can make one plan cheaper than another."""
        return bool(self.prices) or self.peak_price_per_kw > 0.0


@dataclass(frozen=True)
class Problem:
    """One control step's question: how much current may each connector draw?"""

    site: SiteLimits
    connectors: tuple[Connector, ...]
    base_load_a: PhaseTriple = (0.0, 0.0, 0.0)
    circuits: tuple[Circuit, ...] = field(default=())
    horizon: Horizon | None = None
    lookahead: Lookahead | None = None
