"""What a strategy sees at one replay step: the meter, the limit, and the plugged-in EVs
as a charger sees them (never their battery)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ems.replay.scenario import SessionSpec
from ems.site import ConnectorConfig
from optimizer.problem import Phase, PhaseTriple


@dataclass(frozen=True)
class PluggedEv:
    """A plugged-in EV. `site_phases` are the site phases it draws on; `max_current_a` its
    per-phase maximum (already capped by the connector); `measured_a` the per-phase current
    it drew over the last step; `suspended` whether it stopped drawing (request met),
    which a charger reports as SuspendedEV."""

    session: SessionSpec
    connector: ConnectorConfig
    site_phases: tuple[Phase, ...]
    max_current_a: float
    measured_a: float
    delivered_wh: float
    suspended: bool


@dataclass(frozen=True)
class StepView:
    index: int
    now: datetime
    step_s: float
    base_load_a: PhaseTriple
    phase_limit_a: float
    power_limit_w: float | None
    plugged: tuple[PluggedEv, ...]
