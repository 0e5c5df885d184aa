"""Priority weights from laxity, given to the controller through its solver port.

The controller shares capacity max-min fairly by each connector's priority weight. A
replay knows when it is, so it can weigh each plugged-in EV by what it needs to finish by
its departure, using only what the controller itself put into the problem (remaining
energy need, departure, the phases the EV was seen using, its maximum): the current it
needs, `need / (time left × voltage × phases)`, capped at its maximum, times the square
root of its phase count. EVs then progress toward their needs at a similar pace, and one
that would leave unserved is not starved by one with hours to spare.

The phase factor is a compromise measured on the shipped scenarios: per ampere a 3-phase
EV takes three times the power of a 1-phase one, which counts fully where one phase is the
bottleneck and not at all where the phases are loaded evenly. Weighing by current alone
(factor 1) or by power (factor = phases) each lost energy on one kind of site.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime

from ems.solver_port import AllocationSolver
from optimizer.allocation import Allocation
from optimizer.problem import Connector, Problem

MIN_WEIGHT = 0.05
"""Floor of the needed current as a fraction of the EV's maximum, so none is starved."""


class LaxityWeightedSolver:
    """Wraps an `AllocationSolver`; set `now` before each control step."""

    def __init__(self, inner: AllocationSolver, voltage_v: float, min_left_s: float) -> None:
        self._inner = inner
        self._voltage_v = voltage_v
        self._min_left_s = min_left_s
        self.now: datetime | None = None

    def solve(self, problem: Problem) -> Allocation:
        now = self.now
        if now is None:
            return self._inner.solve(problem)
        connectors = tuple(self._weighted(c, now) for c in problem.connectors)
        return self._inner.solve(replace(problem, connectors=connectors))

    def _weighted(self, connector: Connector, now: datetime) -> Connector:
        need_wh = connector.energy_need_wh
        if not connector.ev_present or need_wh is None or connector.departure is None:
            return connector
        max_a = connector.max_current_a
        if connector.ev_max_current_a is not None:
            max_a = min(max_a, connector.ev_max_current_a)
        if max_a <= 0:
            return connector
        left_s = max(self._min_left_s, (connector.departure - now).total_seconds())
        phases = len(connector.active_phases)
        needed_a = need_wh * 3600.0 / (left_s * self._voltage_v * phases)
        weight = min(max(needed_a, MIN_WEIGHT * max_a), max_a) * math.sqrt(phases)
        return replace(connector, priority=connector.priority * weight)
