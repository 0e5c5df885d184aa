"""The simulated site: `SiteSpec` (the fuse, the building's load, the circuits and the
controller's fast control settings every row runs on), `Station` (a simulated charger with
one connector and, when plugged in, its EV), `Building` (the true load of everything that is
not an EV, per phase) and `BASE_STATIONS`, the stations every row starts from."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

from adapters.ocpp.sim import OCPP16, OCPP201
from ems.site import ControlSettings

PhaseTriple = tuple[float, float, float]
PHASE_NAMES = ("L1", "L2", "L3")


@dataclass(frozen=True)
class SiteSpec:
    """The site every row runs on, and the fast control settings of the controller."""

    limit_a: float = 63.0
    worst_a: PhaseTriple = (20.0, 20.0, 20.0)
    building_a: PhaseTriple = (10.0, 8.0, 12.0)
    """The building's true load at the start."""
    building_high_a: PhaseTriple = (19.0, 18.0, 19.0)
    """What the building rises to in the meter-fault rows: near, never above, the worst."""
    building_low_a: PhaseTriple = (5.0, 4.0, 6.0)
    circuits: tuple[tuple[str, float], ...] = (("row-b", 32.0),)
    period_s: float = 1.0
    meter_interval_s: float = 0.25
    profile_validity_s: float = 20.0
    ev_reaction_s: float = 1.5
    """How long a simulated EV takes to follow a lower limit."""
    charger_meter_s: float = 0.5
    """How often a simulated charger reports its meter values."""
    lag_s: float = 6.0
    """How old a lagging meter's values are."""
    frozen_after_s: float = 8.0
    """The meter reader's own frozen check ([[meters]] frozen_after_s), at its default:
    identical answers this long. Within it, only the controller's cross-check (the meter
    must move when our chargers' draw moves, and until it has, no raise rests on it) can
    tell a frozen meter from a quiet site."""
    tolerance_a: float = 0.05
    """Above the limit by no more than this is not over (float rounding of the draws)."""
    settle_timeout_s: float = 16.0
    settle_hold_s: float = 1.0
    settle_still_s: float = 5.0
    """Settled: every session drawing and the limits unchanged for half this long; some
    drawing (the others paused by the priority rule) and unchanged this long (longer than
    `pause_dwell_s`); none drawing and unchanged twice this long."""
    early_wait_s: float = 5.0
    """How long the early sessions (see `Station.early`) run alone before the others."""

    @property
    def circuit_limits(self) -> dict[str, float]:
        return dict(self.circuits)

    def control(self) -> dict[str, float | int]:
        """[control]: fast settings; the optional ones only where this build knows them."""
        settings: dict[str, float | int] = {
            "period_s": self.period_s,
            "meter_stale_s": 2.0,
            "meter_recover_readings": 3,
            "deadband_a": 0.5,
            "deadband_pct": 2.0,
            "min_update_interval_s": 1.0,
            "pause_dwell_s": 3.0,
            "profile_validity_s": self.profile_validity_s,
            "start_schedule_backdate_s": 5.0,
            "taper_margin_a": 1.0,
            "taper_detect_s": 3.0,
            "probe_interval_s": 30.0,
            "noncompliance_tolerance_a": 2.0,
            "noncompliance_after_s": 3.0,
            "sample_stale_s": 5.0,
        }
        optional: dict[str, float | int | bool] = {
            "reaction_s": self.ev_reaction_s + 0.5,
            "meter_agree_tolerance_a": 3.0,
            "meter_follow_step_a": 6.0,
            "meter_follow_check": True,
            "meter_follow_s": 3.0,
            "unknown_charger_max_a": 32.0,
        }
        known = {f.name for f in dataclasses.fields(ControlSettings)}
        return settings | {k: v for k, v in optional.items() if k in known}


@dataclass(frozen=True)
class Station:
    """A simulated charger with one connector (and, when plugged in, its EV)."""

    charger_id: str
    protocol: str
    phases: str
    """Site phases in the charger's phase order: `L1L2L3`, `L2L3L1` (rotated), `L2`..."""
    ev_max_a: float = 32.0
    max_current_a: float = 32.0
    circuit: str | None = None
    configured: bool = True
    """Listed in [[chargers]]; an unconfigured one is admitted only by policy."""
    plugs: bool = True
    """Plugs in an EV before the fault (else only when an action says so)."""
    early: bool = False
    """Plugs in first and charges alone for `SiteSpec.early_wait_s` before the others."""
    boots: bool = True
    """Connects at the start (else only when an action says so)."""
    ignore_profiles: bool = False
    reject_profiles: bool = False
    reconnect_delay_s: float = 1.0

    @property
    def site_phases(self) -> tuple[int, ...]:
        return tuple(
            PHASE_NAMES.index(self.phases[i : i + 2]) for i in range(0, len(self.phases), 2)
        )

    @property
    def one_phase(self) -> bool:
        return len(self.site_phases) == 1


class Building:
    """The true load of everything that is not an EV, per phase: held, or ramped linearly
    to a new value."""

    def __init__(self, start_a: PhaseTriple, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._from = self._to = start_a
        self._t0 = self._t1 = clock()

    def ramp_to(self, target_a: PhaseTriple, over_s: float = 0.0) -> None:
        now = self._clock()
        self._from, self._to = self.now_a(), target_a
        self._t0, self._t1 = now, now + max(over_s, 0.0)

    def now_a(self) -> PhaseTriple:
        now = self._clock()
        if now >= self._t1:
            return self._to
        share = (now - self._t0) / (self._t1 - self._t0)
        a, b, c = (f + (t - f) * share for f, t in zip(self._from, self._to, strict=True))
        return (a, b, c)


BASE_STATIONS = (
    Station("CP01", OCPP16, "L1L2L3"),
    Station("CP02", OCPP201, "L2L3L1", ev_max_a=16.0),
    Station("CP03", OCPP16, "L3L1L2", circuit="row-b"),
    Station("CP04", OCPP201, "L1L2L3", circuit="row-b"),
    Station("CP05", OCPP16, "L1", circuit="row-b"),
    Station("CP06", OCPP201, "L2", ev_max_a=20.0, plugs=False),
)
"""Five EVs charging from the start, wanting far more than the fuse (3-phase, rotated and
1-phase; three on circuit row-b); CP06 stays free for an arrival."""
