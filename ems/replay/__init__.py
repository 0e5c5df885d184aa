"""Scenario replay: the controller core and simpler strategies run over simulated time,
with simulated EVs and meter, measured by KPIs. Pure: no files, no clock."""

from ems.replay.engine import ReplayOptions
from ems.replay.kpis import Kpis, compute_kpis
from ems.replay.result import ReplayResult, SessionOutcome
from ems.replay.runner import STRATEGIES, replay
from ems.replay.scenario import (
    BaseLoadPoint,
    LimitPoint,
    PricePoint,
    PvPoint,
    Scenario,
    SessionSpec,
)

__all__ = [
    "STRATEGIES",
    "BaseLoadPoint",
    "Kpis",
    "LimitPoint",
    "PricePoint",
    "PvPoint",
    "ReplayOptions",
    "ReplayResult",
    "Scenario",
    "SessionOutcome",
    "SessionSpec",
    "compute_kpis",
    "replay",
]
