"""The configured site: what is wired where. Static data, loaded once from config.

A connector is addressed by `(charger_id, connector_id)`; for OCPP 2.0.1 chargers the
`connector_id` is the EVSE id (smart charging in 2.0.1 is per EVSE). Its string key,
used by the optimizer and in logs, is `"<charger_id>/<connector_id>"`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

from ems.forecast_steps import ForecastSteps
from ems.grid_cap import GridCap
from ems.tariff import Tariff
from optimizer.problem import (
    DEFAULT_MIN_CURRENT_A,
    Circuit,
    Connector,
    Phase,
    PhaseTriple,
    PowerPeriod,
    SiteLimits,
)


class ChargingMode(Enum):
    """How a charger's sessions charge, below every limit:

    - `fast`: as much as the limits allow, now;
    - `planned`: the session's need by its departure at least cost (with a `[tariff]`
      and the look-ahead; otherwise as `fast`);
    - `solar`: only from the site's surplus (what it would export), else paused;
    - `min+solar`: its minimum current always, the surplus on top.
    """

    FAST = "fast"
    PLANNED = "planned"
    SOLAR = "solar"
    MIN_SOLAR = "min+solar"


def connector_key(charger_id: str, connector_id: int) -> str:
    return f"{charger_id}/{connector_id}"


@dataclass(frozen=True)
class ConnectorConfig:
    """One connector as installed.

    `phases` maps the charger's own phases, in order, to site phases: a 3-phase connector
    rotated by the installer is `(L2, L3, L1)`; a 1-phase connector on site L3 is `(L3,)`.
    """

    charger_id: str
    connector_id: int
    phases: tuple[Phase, ...]
    max_current_a: float
    min_current_a: float = DEFAULT_MIN_CURRENT_A
    circuit: str | None = None
    priority: float = 1.0

    @cached_property
    def key(self) -> str:
        """Worked out once: it is read for every connector many times a step."""
        return connector_key(self.charger_id, self.connector_id)

    @cached_property
    def without_ev(self) -> Connector:
        """The optimizer's connector with no EV steered behind it, built once: every
        problem lists every connector, most of them idle (`ems.problem_builder`)."""
        return Connector(
            id=self.key,
            phases=self.phases,
            max_current_a=self.max_current_a,
            circuit=self.circuit,
            min_current_a=self.min_current_a,
            priority=self.priority,
        )


@dataclass(frozen=True)
class ChargerConfig:
    """A charger (charging station) and its connectors.

    `behind_meter`: the site meter measures this charger's draw too, so base load is the
    meter minus what the charger reports. `fallback_a`: the per-phase current each connector
    falls back to when the controller is gone; None lets the controller compute a safe one.
    """

    id: str
    connectors: tuple[ConnectorConfig, ...]
    behind_meter: bool = True
    fallback_a: float | None = None
    mode: ChargingMode = ChargingMode.PLANNED
    """How its sessions charge by default (`ChargingMode`)."""


@dataclass(frozen=True)
class SiteConfig:
    """The site: its limits, circuit tree, chargers, the worst base load to assume
    when the meter cannot be trusted, and what its power costs."""

    name: str
    limits: SiteLimits
    chargers: tuple[ChargerConfig, ...]
    circuits: tuple[Circuit, ...] = ()
    worst_base_load_a: PhaseTriple = (0.0, 0.0, 0.0)
    pv_peak_a: PhaseTriple = (0.0, 0.0, 0.0)
    """The most a PV system behind the site meter feeds in per phase: the meter may read
    that much less than our chargers behind it draw (`ems.meter_agreement`)."""
    tariff: Tariff = field(default_factory=Tariff)
    pv_forecast: tuple[PowerPeriod, ...] = ()
    """The PV production expected behind the site meter (W, a step function); the
    planner moves the present surplus along it. The replay gives the scenario's PV (a
    perfect forecast); a live site gives none yet and plans with the present surplus."""
    base_forecast: tuple[PowerPeriod, ...] = ()
    """The site's own load expected besides our chargers (W over all phases, a step
    function, PV not deducted); the planner moves the present import along it as along
    the PV forecast. Money only, never a limit. The replay gives the scenario's base load
    (a perfect forecast, as for PV); a live site gives none and plans with the load it
    learned instead: what it imported besides our chargers at the same time a week ago,
    else a day ago (`ems.load_history`; PV behind the meter included), the present import
    held on where neither is known."""
    grid_caps: tuple[GridCap, ...] = ()
    """The grid operator's import cap schedule (`ems.grid_cap`), in time order; what the
    runtime and the dry-run put in force as the site limit (`ems.site_limit`)."""
    token_modes: tuple[tuple[str, ChargingMode], ...] = ()
    """The mode a session started with an id token charges in by default, per token
    (before its charger's mode; an operator's choice for the session wins over both)."""

    @cached_property
    def circuit_paths(self) -> dict[str, tuple[str, ...]]:
        """Each circuit with every circuit above it, innermost first, by the circuit's id:
        worked out once, as the raise gate, the rounding and the bottleneck ask for the
        circuits of every connector at every step (`ems.limit_check.circuit_path`)."""
        parents = {c.id: c.parent for c in self.circuits}
        paths: dict[str, tuple[str, ...]] = {}
        for circuit in self.circuits:
            path: list[str] = []
            node: str | None = circuit.id
            while node is not None and node not in path:
                path.append(node)
                node = parents.get(node)
            paths[circuit.id] = tuple(path)
        return paths

    @cached_property
    def forecast_steps(self) -> ForecastSteps:
        """`base_forecast` and `pv_forecast` on one line: drawn once, as the money plan
        moves the present import along them at every step (`ems.forecast_steps`)."""
        return ForecastSteps.of(self.base_forecast, self.pv_forecast)

    def mode_for_token(self, id_token: str | None) -> ChargingMode | None:
        """The configured mode of sessions started with `id_token`, None for none."""
        if not self.token_modes:  # asked for every session at every step; most sites have none
            return None
        return next((mode for token, mode in self.token_modes if token == id_token), None)

    def connectors(self) -> tuple[ConnectorConfig, ...]:
        return tuple(c for ch in self.chargers for c in ch.connectors)

    def connector(self, charger_id: str, connector_id: int) -> ConnectorConfig | None:
        for c in self.connectors():
            if c.charger_id == charger_id and c.connector_id == connector_id:
                return c
        return None


@dataclass(frozen=True)
class ControlSettings:
    """Tuning of the control loop. Durations in seconds, currents in A per phase."""

    period_s: float = 10.0
    meter_stale_s: float = 10.0
    meter_recover_readings: int = 3
    deadband_a: float = 1.0
    deadband_pct: float = 5.0
    min_update_interval_s: float = 60.0
    pause_dwell_s: float = 300.0
    profile_validity_s: float = 300.0
    start_schedule_backdate_s: float = 60.0
    taper_margin_a: float = 1.0
    taper_detect_s: float = 60.0
    probe_interval_s: float = 300.0
    noncompliance_tolerance_a: float = 2.0
    noncompliance_after_s: float = 60.0
    max_schedule_periods: int = 24
    site_meter_id: str | None = None
    """Which meter is the site meter; None takes every MeterReading as the site meter."""
    meter_max_factor: float = 2.0
    """A reading above this many times the site limit on a phase is implausible."""
    sample_stale_s: float = 180.0
    """A charger's meter sample older than this no longer counts as its draw."""
    ev_phase_detect_a: float = 2.0
    """A phase on which an EV draws at least this much is one the EV uses."""
    horizon_steps: int = 0
    """Steps of look-ahead when sessions state energy needs; 0 plans the present only."""
    horizon_step_s: float = 900.0
    reserve_for_arrivals: bool = True
    """Hold room on every connector without an EV for what an arriving EV draws before the
    controller hears of it: its fallback (its maximum where profiles are not obeyed), when
    that is at least its minimum current (below it an EV cannot start)."""
    priority_from_laxity: bool = False
    """Weigh each session by the current it needs to finish by its departure (see
    `ems.urgency`): most useful where sessions state their energy need and departure."""
    reaction_s: float = 5.0
    """After a charger accepts a lower limit, how long its EV may still draw the higher
    one: IEC 61851-1 gives an EV up to 5 s to follow a lower duty cycle, and chargers add
    their own delay. Room a lowering frees is handed out only after this."""
    meter_agree_tolerance_a: float = 3.0
    """The site meter may read this much less on a phase than our chargers behind it report
    drawing there; more, and it is taken not to see them (wired before the EV sub-board,
    a wrong CT) and is not trusted."""
    meter_follow_step_a: float = 6.0
    """A change of our chargers' reported draw on a phase at least this large must show on
    the site meter."""
    meter_follow_check: bool = True
    """Distrust a site meter that does not move enough when our chargers' reported draw
    moves clearly (lagging, blind). Changes whose samples are further apart than
    `meter_follow_s` are not judged so (when they happened is known too loosely); raises
    wait for the meter to show them all the same. Off, raises still wait, and a meter that
    reads exactly the same on every phase across a change is still distrusted as frozen;
    only a lagging or blind one goes unnoticed until the base load it hides shows."""
    meter_follow_s: float = 15.0
    """How long after a charger reports such a change the site meter has to show it; a
    meter that does not is frozen, lagging or blind to our chargers, and not trusted."""
    base_fall_hold_s: float = 5.0
    """A fall of the measured base load is planned with only once every reading of this
    long shows it: until then each phase counts the highest base load measured in that
    time. A rise counts at once. One low reading — a lagging meter serving old values, a
    glitch — then cannot hand out room before the meter checks have had a second reading
    to judge; a building that really switched a load off waits this long for its room."""
    unknown_charger_max_a: float = 32.0
    """What a charger admitted by policy but absent from the configuration may draw per
    phase, on every phase, until its 0 A default profile is accepted."""
    solar_enable_delay_s: float = 60.0
    """A `solar` session starts only once the surplus paid for its minimum this long
    without a break (`ems.solar_gate`; evcc's enable delay)."""
    solar_disable_delay_s: float = 180.0
    """A charging `solar` session stops only once the surplus fell short of its minimum
    this long without a break; until then it keeps its minimum (evcc's disable delay)."""
    lookahead: bool = False
    """Plan each step against the departures of the sessions that state need and departure
    (see `optimizer.lookahead`): capacity only some of them can use now goes to them
    first, and sessions with time to spare make up later what they yield now."""
