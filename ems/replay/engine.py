"""The replay loop: simulated time, simulated EVs and meter, one strategy deciding.

Each step: EVs whose departure has come leave, arrived EVs plug in, the strategy decides
every plugged-in EV's allowed current from what it can see (the meter as of the step's
start, the EVs' draw over the last step), then every EV draws for the step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ems.limit_check import circuit_path
from ems.replay.ev import BATTERIES, SimulatedEv, battery_size_wh
from ems.replay.result import ReplayResult, SessionOutcome
from ems.replay.scenario import Scenario, SessionSpec
from ems.replay.strategy import Strategy
from ems.replay.timeline import Timeline
from ems.replay.view import PluggedEv, StepView
from ems.site import ConnectorConfig
from optimizer.problem import Phase

ProgressCallback = Callable[[int, int], None]
"""Called as `(steps_done, steps_total)` while a replay runs."""

LIMIT_CHANGE_A = 0.05
"""A change of a connector's allowed current above this counts as a profile change."""


@dataclass(frozen=True)
class ReplayOptions:
    """`step_s`: simulated seconds per step. `min_current_a`: overrides every connector's
    minimum current (0 allows any rate, as in continuous-rate studies). `site_limit_a`:
    overrides the site's main fuse (A per phase) and caps a time-varying site limit, so
    one scenario answers "what if the connection were this size?". `battery`: overrides
    the scenario's battery model (`ems.replay.ev.BATTERIES`)."""

    step_s: float = 300.0
    min_current_a: float | None = None
    site_limit_a: float | None = None
    battery: str | None = None


def apply_options(scenario: Scenario, options: ReplayOptions) -> Scenario:
    """The scenario as replayed: with the minimum-current, site-limit and battery
    overrides."""
    if options.battery is not None:
        if options.battery not in BATTERIES:
            raise ValueError(
                f"unknown battery {options.battery!r}; choose from {', '.join(BATTERIES)}"
            )
        scenario = replace(scenario, battery=options.battery)
    if options.min_current_a is not None:
        minimum = options.min_current_a
        chargers = tuple(
            replace(ch, connectors=tuple(replace(c, min_current_a=minimum) for c in ch.connectors))
            for ch in scenario.site.chargers
        )
        scenario = replace(scenario, site=replace(scenario.site, chargers=chargers))
    if options.site_limit_a is not None:
        fuse = options.site_limit_a
        site = scenario.site
        scenario = replace(
            scenario,
            site=replace(site, limits=replace(site.limits, phase_limit_a=fuse)),
            limits=tuple(
                replace(p, phase_limit_a=min(p.phase_limit_a, fuse)) for p in scenario.limits
            ),
        )
    return scenario


def ev_phases(connector: ConnectorConfig, session: SessionSpec) -> tuple[Phase, ...]:
    """The site phases an EV draws on: a 1-phase EV uses its connector's first phase."""
    return connector.phases[: max(1, min(session.phases, len(connector.phases)))]


def ev_max_current_a(connector: ConnectorConfig, session: SessionSpec, voltage_v: float) -> float:
    """The EV's per-phase maximum on this connector."""
    phases = len(ev_phases(connector, session))
    return min(connector.max_current_a, session.max_power_w / (voltage_v * phases))


class _Plug:
    """A session while plugged in."""

    __slots__ = ("_seen", "column", "connector", "ev", "measured_a", "phases", "session")

    def __init__(
        self,
        session: SessionSpec,
        connector: ConnectorConfig,
        column: int,
        voltage_v: float,
        tapering: bool = True,
    ) -> None:
        self.session = session
        self.connector = connector
        self.column = column
        self.phases = ev_phases(connector, session)
        self.ev = SimulatedEv(
            max_current_a=ev_max_current_a(connector, session, voltage_v),
            phases=len(self.phases),
            voltage_v=voltage_v,
            energy_wh=session.energy_wh,
            battery_wh=battery_size_wh(session.energy_wh, session.battery_wh),
            tapering=tapering,
        )
        self.measured_a = 0.0
        self._seen: PluggedEv | None = None

    def view(self) -> PluggedEv:
        """The EV as a strategy sees it: the last view again while its draw and delivered
        energy are unchanged (an EV that draws nothing), as all else it shows follows
        from those."""
        seen = self._seen
        if (
            seen is not None
            and seen.measured_a == self.measured_a
            and seen.delivered_wh == self.ev.delivered_wh
        ):
            return seen
        self._seen = PluggedEv(
            session=self.session,
            connector=self.connector,
            site_phases=self.phases,
            max_current_a=self.ev.max_current_a,
            measured_a=self.measured_a,
            delivered_wh=self.ev.delivered_wh,
            suspended=self.ev.acceptable_a() <= 0.0,
        )
        return self._seen


def run_replay(
    scenario: Scenario,
    timeline: Timeline,
    strategy: Strategy,
    strategy_name: str,
    progress: ProgressCallback | None = None,
) -> ReplayResult:
    """Replay `scenario` (options already applied) on `timeline` under `strategy`."""
    wall_start = time.perf_counter()
    site = scenario.site
    voltage_v = site.limits.voltage_v
    keys = tuple(c.key for c in site.connectors())
    column_of = {key: i for i, key in enumerate(keys)}
    connectors = scenario.connectors_by_key()
    steps, dt = timeline.steps, timeline.step_s

    pending = sorted(scenario.sessions, key=lambda s: (s.arrival, s.session_id))
    arrival_steps = [timeline.step_of(s.arrival) for s in pending]
    next_arrival = 0
    plugged: dict[str, _Plug] = {}
    done: list[SessionOutcome] = []

    current = np.zeros((steps, len(keys)))
    power = np.zeros((steps, len(keys)))
    site_current = timeline.base_load_a.copy()
    circuit_current = {c.id: np.zeros((steps, 3)) for c in site.circuits}
    circuits_of = {key: circuit_path(site, c.circuit) for key, c in connectors.items()}
    last_limit = [math.nan] * len(keys)
    profile_changes = 0
    decide_ms: list[float] = []
    power_caps = [None if np.isnan(p) else float(p) for p in timeline.power_limit_w]
    report_every = max(1, steps // 200)

    for k in range(steps):
        now = timeline.at(k)
        for key in [key for key, plug in plugged.items() if plug.session.departure <= now]:
            done.append(_outcome(plugged.pop(key)))
            last_limit[column_of[key]] = math.nan
        while next_arrival < len(pending) and arrival_steps[next_arrival] <= k:
            session = pending[next_arrival]
            next_arrival += 1
            if session.departure <= now:
                done.append(_outcome(_Plug(session, connectors[session.connector], 0, voltage_v)))
                continue
            plugged[session.connector] = _Plug(
                session,
                connectors[session.connector],
                column_of[session.connector],
                voltage_v,
                tapering=scenario.battery != "ideal",
            )

        base = timeline.base_load_a[k]
        view = StepView(
            index=k,
            now=now,
            step_s=dt,
            base_load_a=(float(base[0]), float(base[1]), float(base[2])),
            phase_limit_a=float(timeline.phase_limit_a[k]),
            power_limit_w=power_caps[k],
            plugged=tuple(plug.view() for plug in plugged.values()),
        )
        began = time.perf_counter()
        limits = strategy.decide(view)
        decide_ms.append((time.perf_counter() - began) * 1000.0)

        # the step's rows summed as Python floats (the same doubles) and stored once: numpy
        # item by item cost more than the sums
        site_row = site_current[k].tolist()
        current_row = current[k].tolist()
        power_row = power[k].tolist()
        circuit_rows = {c: [0.0, 0.0, 0.0] for c in circuit_current}
        for key, plug in plugged.items():
            allowed_a = limits.get(key, plug.connector.max_current_a)
            column = plug.column
            previous = last_limit[column]
            if not math.isnan(previous) and abs(previous - allowed_a) > LIMIT_CHANGE_A:
                profile_changes += 1
            last_limit[column] = allowed_a
            share = min(1.0, (plug.session.departure - now).total_seconds() / dt)
            drawn_a = plug.ev.charge(allowed_a, dt * share) * share
            plug.measured_a = drawn_a
            current_row[column] = drawn_a
            power_row[column] = drawn_a * len(plug.phases) * voltage_v
            for phase in plug.phases:
                site_row[phase] += drawn_a
                for circuit_id in circuits_of[key]:
                    circuit_rows[circuit_id][phase] += drawn_a
        site_current[k] = site_row
        current[k] = current_row
        power[k] = power_row
        for circuit_id, row in circuit_rows.items():
            circuit_current[circuit_id][k] = row
        if progress is not None and (k % report_every == 0 or k == steps - 1):
            progress(k + 1, steps)

    done.extend(_outcome(plug) for plug in plugged.values())
    done.extend(
        _outcome(_Plug(s, connectors[s.connector], 0, voltage_v)) for s in pending[next_arrival:]
    )
    done.sort(key=lambda o: (o.arrival, o.session_id))
    return ReplayResult(
        scenario=scenario.name,
        strategy=strategy_name,
        timeline=timeline,
        voltage_v=voltage_v,
        connectors=keys,
        connector_current_a=current,
        connector_power_w=power,
        site_current_a=site_current,
        sessions=tuple(done),
        decide_ms=tuple(decide_ms),
        profile_changes=profile_changes,
        wall_seconds=time.perf_counter() - wall_start,
        tariff=scenario.tariff,
        circuit_current_a=circuit_current,
        circuit_limit_a={c.id: c.limit_a for c in site.circuits},
    )


def _outcome(plug: _Plug) -> SessionOutcome:
    s = plug.session
    return SessionOutcome(
        session_id=s.session_id,
        connector=s.connector,
        arrival=s.arrival,
        departure=s.departure,
        requested_wh=s.energy_wh,
        delivered_wh=plug.ev.delivered_wh,
    )
