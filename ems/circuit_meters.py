"""Circuit meters: what else a sub-feeder carries besides our chargers.

A `[[circuits]]` limit is a fuse too, and the garage's lights or a heat pump share it
with the chargers. Where a meter measures a circuit, the load on it that is not our
chargers' (what it reads less what our chargers under it draw, as the site meter's base
load is taken, `counted_draw`) counts on the circuit and on every circuit above it,
beside the chargers' reserved loads.

The meter must agree as the site meter must (`ems.meter_agreement`): a reading short of
what our chargers under it report, `SHORT_READINGS` in a row, is not trusted; nor is a
stale one. A fall of its base load counts once it has held `base_fall_hold_s`. While the
meter is not trusted, its circuit counts the highest base load it measured in the last
`meter_follow_s` + `sample_stale_s`: with no worst case configured for a circuit, that is
the best bound there is, and never less than what was last seen.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ems.events import MeterReading
from ems.meter_watch import SHORT_READINGS
from ems.phases import ZERO, add, larger, non_negative, subtract
from ems.site import ControlSettings, SiteConfig
from optimizer.problem import Phase, PhaseTriple


@dataclass
class CircuitMeter:
    """One circuit's meter as the controller judged it."""

    meter_id: str
    last_good: MeterReading | None = None
    short_streak: int = 0
    distrusted: str | None = None
    """Why its readings are not trusted now; None while they are."""
    bases: deque[tuple[datetime, PhaseTriple]] = field(default_factory=deque)
    """The base loads measured off its good readings, oldest first."""

    def why_untrusted(self, now: datetime, settings: ControlSettings) -> str | None:
        if self.last_good is None:
            return f"circuit meter {self.meter_id}: no reading yet"
        age_s = (now - self.last_good.at).total_seconds()
        if age_s > settings.meter_stale_s:
            return f"circuit meter {self.meter_id} stale: last good reading {age_s:.0f} s old"
        return self.distrusted


def observe_circuit_reading(
    meters: dict[str, CircuitMeter],
    circuit_id: str,
    reading: MeterReading,
    ours_a: PhaseTriple,
    settings: ControlSettings,
) -> bool:
    """Judge a circuit meter's reading against what our chargers under it draw (`ours_a`,
    as counted off it) and remember the base load it shows; True when it turned
    untrusted (its circuit counts more from now on)."""
    meter = meters.setdefault(circuit_id, CircuitMeter(reading.meter_id))
    if not reading.valid or None in reading.current_a:
        return False
    if meter.last_good is not None and reading.at < meter.last_good.at:
        return False
    was_distrusted = meter.distrusted is not None
    meter.last_good = reading
    a, b, c = reading.current_a
    current = (a or 0.0, b or 0.0, c or 0.0)
    ours = ours_a
    short = [p for p in Phase if current[p] < ours[p] - settings.meter_agree_tolerance_a]
    meter.short_streak = meter.short_streak + 1 if short else 0
    if meter.short_streak >= SHORT_READINGS:
        phase = short[0]
        meter.distrusted = (
            f"circuit meter {reading.meter_id} reads {current[phase]:.1f} A on {phase.name},"
            f" less than the {ours[phase]:.1f} A our chargers under it report"
        )
        return not was_distrusted
    if short:
        return False
    meter.distrusted = None
    meter.bases.append((reading.at, non_negative(subtract(current, ours))))
    keep_s = settings.meter_follow_s + settings.sample_stale_s
    while meter.bases and (reading.at - meter.bases[0][0]).total_seconds() > keep_s:
        meter.bases.popleft()
    return False


def circuit_base_loads(
    site: SiteConfig, meters: Mapping[str, CircuitMeter], settings: ControlSettings, now: datetime
) -> dict[str, PhaseTriple]:
    """Per circuit, the load its meters measured that is not our chargers', on it or on a
    circuit below it (a metered circuit counts the larger of its own measure and what
    the metered circuits below it add up to)."""
    children: dict[str | None, list[str]] = {}
    for circuit in site.circuits:
        children.setdefault(circuit.parent, []).append(circuit.id)
    loads: dict[str, PhaseTriple] = {}

    def load_of(circuit_id: str) -> PhaseTriple:
        below = ZERO
        for child in children.get(circuit_id, []):
            below = add(below, load_of(child))
        meter = meters.get(circuit_id)
        own = ZERO if meter is None else _measured(meter, settings, now)
        loads[circuit_id] = larger(own, below)
        return loads[circuit_id]

    for root in children.get(None, []):
        load_of(root)
    return loads


def _measured(meter: CircuitMeter, settings: ControlSettings, now: datetime) -> PhaseTriple:
    """The base load to count for a circuit meter: the highest of the hold while it is
    trusted, of everything remembered while it is not."""
    trusted = meter.why_untrusted(now, settings) is None
    highest = ZERO
    for index, (at, base) in enumerate(meter.bases):
        recent = (now - at).total_seconds() <= settings.base_fall_hold_s
        if not trusted or recent or index == len(meter.bases) - 1:
            highest = larger(highest, base)
    return highest
