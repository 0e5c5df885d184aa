"""The allocation problem and its solution. Pure: numbers in, numbers out."""

from optimizer.allocation import (
    Allocation,
    ConnectorAllocation,
    ConnectorState,
    PauseReason,
    SolveStatus,
)
from optimizer.fallback import equal_share
from optimizer.problem import (
    DEFAULT_MIN_CURRENT_A,
    DEFAULT_VOLTAGE_V,
    Circuit,
    Connector,
    Horizon,
    Lookahead,
    Phase,
    PhaseTriple,
    PowerPeriod,
    PricePeriod,
    Problem,
    SiteLimits,
)
from optimizer.solver import Solver, solve
from optimizer.validation import ProblemError, validate

__all__ = [
    "DEFAULT_MIN_CURRENT_A",
    "DEFAULT_VOLTAGE_V",
    "Allocation",
    "Circuit",
    "Connector",
    "ConnectorAllocation",
    "ConnectorState",
    "Horizon",
    "Lookahead",
    "PauseReason",
    "Phase",
    "PhaseTriple",
    "PowerPeriod",
    "PricePeriod",
    "Problem",
    "ProblemError",
    "SiteLimits",
    "SolveStatus",
    "Solver",
    "equal_share",
    "solve",
    "validate",
]
