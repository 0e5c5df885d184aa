"""The hindsight bound: one window with every session known ahead, as an LP relaxation
or, with the minimum currents, a MIP (`solve_offline`)."""

from optimizer.offline.problem import (
    MipOptions,
    OfflineMoney,
    OfflineProblem,
    OfflineSession,
    OfflineSolution,
    Tail,
)
from optimizer.offline.solve import OfflineSolveError, solve_offline

__all__ = [
    "MipOptions",
    "OfflineMoney",
    "OfflineProblem",
    "OfflineSession",
    "OfflineSolution",
    "OfflineSolveError",
    "Tail",
    "solve_offline",
]
