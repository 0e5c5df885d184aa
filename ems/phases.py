"""Per-phase arithmetic and the mapping from a charger's phases to the site's.

A charger reports per-phase values in its own order (its L1, L2, L3); a connector's
configured `phases` says which site phase each of them is on. Everything the core
compares with a limit is in site phases.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ems.events import PhaseValues
from optimizer.problem import Phase, PhaseTriple

ZERO: PhaseTriple = (0.0, 0.0, 0.0)
PHASES: tuple[Phase, ...] = tuple(Phase)
"""The site phases in order: a tuple is iterated several times faster than the enum, which
the limit checks and the meter agreement go through several times a step."""


def to_site_phases(phases: tuple[Phase, ...], values: PhaseValues) -> PhaseTriple | None:
    """Map per-phase values in charger order onto site phases.

    Charger phase `i` lands on site phase `phases[i]`; values beyond the connector's wired
    phases are ignored. None when no wired phase has a usable value.
    """
    site = [0.0, 0.0, 0.0]
    seen = False
    for charger_phase, site_phase in enumerate(phases):
        value = values[charger_phase]
        if value is None or not math.isfinite(value):
            continue
        site[site_phase] += max(value, 0.0)
        seen = True
    return (site[0], site[1], site[2]) if seen else None


def spread(phases: Iterable[Phase], current_a: float) -> PhaseTriple:
    """`current_a` on each of `phases`, zero elsewhere."""
    site = [0.0, 0.0, 0.0]
    for phase in phases:
        site[phase] = current_a
    return (site[0], site[1], site[2])


def add(a: PhaseTriple, b: PhaseTriple) -> PhaseTriple:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def subtract(a: PhaseTriple, b: PhaseTriple) -> PhaseTriple:
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def clip_min(a: PhaseTriple, b: PhaseTriple) -> PhaseTriple:
    """Phase by phase, the smaller of the two."""
    return (min(a[0], b[0]), min(a[1], b[1]), min(a[2], b[2]))


def larger(a: PhaseTriple, b: PhaseTriple) -> PhaseTriple:
    """Phase by phase, the higher of the two."""
    return (max(a[0], b[0]), max(a[1], b[1]), max(a[2], b[2]))


def non_negative(a: PhaseTriple) -> PhaseTriple:
    return (max(a[0], 0.0), max(a[1], 0.0), max(a[2], 0.0))


def round_down(current_a: float) -> float:
    """Round down to the 0.1 A grid chargers accept, never up (a limit must hold)."""
    return max(math.floor(current_a * 10.0 + 1e-9) / 10.0, 0.0)
