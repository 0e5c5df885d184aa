"""Putting a set of connector currents onto the chargers' 0.1 A grid jointly.

Chargers accept limits in steps of 0.1 A (`multipleOf 0.1`), so every limit must be
rounded; rounding each connector down on its own leaves up to one step per connector
unused on every phase — on a site of a hundred connectors, kilowatts in every period.
`round_jointly` floors every connector, then hands the room the floors freed back out
one step at a time, in the policy's order (the largest remainder first, a connector
holding that step already keeping it against remainders slightly larger, then the
higher priority), to each connector whose step still fits every limit it is under: each
site phase it draws on, the site's power cap and every circuit above it
(`ems.limit_check`).

What it never does:
- give a connector more than one step above its floor, so a connector ends at most one
  step above the value asked for, and never above its connector's maximum; above
  `cap_a` (which may be its EV's maximum, off the grid: 11 kW on three phases is
  15.94 A) only up to the next grid value, since the EV takes no more than its maximum
  however high the limit, while the floor (15.9 A) would hold it below it all stay;
- give a step to a connector whose value is already on the grid, nor one that would leave
  it between 0 and its minimum;
- exceed a limit: a step that would break a limit the connector is under is not given
  (a limit already broken before any step stays so, and gets no step added to it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from ems.limit_check import circuit_path, limits_over, load_totals, violations
from ems.phases import ZERO, add, spread
from ems.site import ConnectorConfig, SiteConfig
from optimizer.problem import Phase, PhaseTriple

GRID_A = 0.1
"""The step chargers accept limits in (OCPP `multipleOf 0.1`)."""
_STEPS_PER_A = 10.0
HOLD_STEPS = 0.5
"""A connector holding the step above its floor keeps it against remainders up to this
many steps larger than its own. As the measured base load moves by a few hundredths, equal
shares' remainders change order, and each step handed from one connector to another costs
two profiles for 0.1 A: on the fault rig's honest site (`python -m benchmarks.faults --rows
normal`) 12-15 of 45-49 profiles were such raises and 6-10 such lowerings; kept, 3-5 and
0-1 of 37-38. Held against any remainder, the step went where the plan wanted it
least (the quality family lost up to 0.04 points); within half a step it goes where
rounding to the nearest value would put it anyway."""
_EPS = 1e-9


class Wanted(NamedTuple):
    """One connector's current as the policy allowed it, before rounding. A named tuple
    rather than a frozen dataclass: one is made for every steered connector at every
    step."""

    key: str
    config: ConnectorConfig
    phases: tuple[Phase, ...]
    """The site phases its EV draws on."""
    current_a: float
    cap_a: float = math.inf
    """The most it may be given (its own and its EV's maximum)."""
    min_a: float = 0.0
    priority: float = 1.0
    held_a: float | None = None
    """The limit it holds now, if any: where that is the step above its floor, it keeps
    the step against slightly larger remainders (`HOLD_STEPS`)."""


def floor_steps(current_a: float) -> int:
    """Whole grid steps in `current_a`, rounded down (never below 0)."""
    return max(math.floor(current_a * _STEPS_PER_A + _EPS), 0)


def grid_floor(current_a: float) -> float:
    """The largest grid value at or below `current_a` (never below 0)."""
    return floor_steps(current_a) / _STEPS_PER_A


def round_jointly(
    site: SiteConfig,
    fixed_a: PhaseTriple,
    circuit_fixed_a: Mapping[str, PhaseTriple],
    wanted: Iterable[Wanted],
) -> dict[str, float]:
    """Per connector key, its current on the grid: its floor, or one step above it where
    that step fits every limit it is under on top of `fixed_a` (site) and
    `circuit_fixed_a` (per circuit) and everyone else's rounded current."""
    wanted = list(wanted)
    steps = {w.key: floor_steps(w.current_a) for w in wanted}
    loads = [(w.config, spread(w.phases, steps[w.key] / _STEPS_PER_A)) for w in wanted]
    site_total, per_circuit = load_totals(site, fixed_a, loads)
    circuit_total = {
        cid: add(load, circuit_fixed_a.get(cid, ZERO)) for cid, load in per_circuit.items()
    }
    for w in sorted(_candidates(wanted, steps), key=_order):
        step = spread(w.phases, GRID_A)
        path = circuit_path(site, w.config.circuit)
        trial_site = add(site_total, step)
        trial_circuits = dict(circuit_total)
        for cid in path:
            trial_circuits[cid] = add(trial_circuits.get(cid, ZERO), step)
        broken = set(violations(site, trial_site, trial_circuits))
        if broken.intersection(limits_over(path, w.phases)):
            continue
        steps[w.key] += 1
        site_total, circuit_total = trial_site, trial_circuits
    return {key: n / _STEPS_PER_A for key, n in steps.items()}


def _candidates(wanted: list[Wanted], steps: Mapping[str, int]) -> list[Wanted]:
    """Connectors whose value is off the grid and whose next step is allowed to them."""
    found = []
    for w in wanted:
        if not w.current_a - steps[w.key] / _STEPS_PER_A > _EPS:
            continue  # on the grid already (most are): its ceiling need not be worked out
        up_a = (steps[w.key] + 1) / _STEPS_PER_A
        ceiling_a = min(_grid_ceiling(w.cap_a), w.config.max_current_a)
        if up_a <= ceiling_a + _EPS and up_a >= w.min_a - _EPS and w.phases:
            found.append(w)
    return found


def _grid_ceiling(current_a: float) -> float:
    """The least grid value at or above `current_a` (infinite stays infinite)."""
    if math.isinf(current_a):
        return current_a
    return math.ceil(current_a * _STEPS_PER_A - _EPS) / _STEPS_PER_A


def _order(w: Wanted) -> tuple[float, float, str]:
    """Largest remainder first, counting `HOLD_STEPS` more for a connector that holds the
    step above its floor already; then the higher priority, then by key (deterministic)."""
    floor = math.floor(w.current_a * _STEPS_PER_A + _EPS)
    holds = w.held_a is not None and round(w.held_a * _STEPS_PER_A) == floor + 1
    remainder = w.current_a * _STEPS_PER_A - floor + (HOLD_STEPS if holds else 0.0)
    return (-remainder, -w.priority, w.key)
