"""What a replay produced: per step and per session, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ems.replay.timeline import FloatArray, Timeline
from ems.tariff import Tariff

FULLY_SERVED_TOLERANCE_WH = 100.0


@dataclass(frozen=True)
class SessionOutcome:
    session_id: str
    connector: str
    arrival: datetime
    departure: datetime
    requested_wh: float
    delivered_wh: float

    @property
    def fully_served(self) -> bool:
        """Delivered within 0.1 kWh of the request."""
        return self.delivered_wh >= self.requested_wh - FULLY_SERVED_TOLERANCE_WH


@dataclass(frozen=True, eq=False)
class ReplayResult:
    """One strategy's replay of one scenario.

    Arrays have one row per step: `connector_current_a` (steps × connectors) is each
    connector's average per-phase current, `connector_power_w` its average power,
    `site_current_a` (steps × 3) the site's per-phase current including base load.
    `decide_ms` is the strategy's decision time per step (per solve for `offline`);
    `fallback_steps` the steps at which the controller (`optimal`) ran on the optimizer's
    safe fallback rather than its optimum.
    """

    scenario: str
    strategy: str
    timeline: Timeline
    voltage_v: float
    connectors: tuple[str, ...]
    connector_current_a: FloatArray
    connector_power_w: FloatArray
    site_current_a: FloatArray
    sessions: tuple[SessionOutcome, ...]
    decide_ms: tuple[float, ...]
    profile_changes: int
    wall_seconds: float
    fallback_steps: int = 0
    tariff: Tariff = field(default_factory=Tariff)
    """The scenario's tariff, its prices as the dynamic series (`Scenario.tariff`)."""
    circuit_current_a: dict[str, FloatArray] = field(default_factory=dict)
    """Per circuit, (steps × 3) the current on each site phase of what hangs on it or on
    any circuit below it (the EVs' draw; the base load is the site's, not a circuit's)."""
    circuit_limit_a: dict[str, float] = field(default_factory=dict)
    """Per circuit, its per-phase limit."""

    def delivered_before(self, moment: datetime) -> dict[str, float]:
        """Each session's energy (Wh) delivered before `moment`; a step that `moment`
        falls in counts in proportion."""
        column = {key: i for i, key in enumerate(self.connectors)}
        timeline = self.timeline
        step_h = timeline.step_s / 3600.0
        delivered: dict[str, float] = {}
        for session in self.sessions:
            energy_wh = 0.0
            first = max(0, timeline.step_of(session.arrival))
            for k in range(first, timeline.steps):
                start = timeline.at(k)
                if start >= moment or start >= session.departure:
                    break
                share = min(1.0, (moment - start).total_seconds() / timeline.step_s)
                energy_wh += self.connector_power_w[k, column[session.connector]] * step_h * share
            delivered[session.session_id] = energy_wh
        return delivered
