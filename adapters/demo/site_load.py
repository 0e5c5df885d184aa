"""What the demo's site meter measures: the office building plus every simulated charger.

The meter simulator plays a load profile; here the profile is the packaged office day
with the chargers' live draw added on the site phases they are wired to, so the
controller sees what a real grid meter would (its chargers sit behind the meter) and has
to work out the base load itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from adapters.modbus.profile import LoadProfile, Phases

DrawSource = Callable[[], Phases]
"""Returns what all chargers draw now, per site phase."""

OFFICE_MORNING_S = 7 * 3600.0
"""The demo starts at 07:00 in the office profile: the building fills up over the first
minutes and squeezes the chargers harder and harder."""


def _no_chargers() -> Phases:
    return (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class SiteLoad(LoadProfile):
    """A building profile, shifted by `start_offset_s`, plus the chargers' draw."""

    start_offset_s: float = 0.0
    chargers_a: DrawSource = field(default=_no_chargers, compare=False)

    @classmethod
    def of(cls, building: LoadProfile, chargers_a: DrawSource, start_offset_s: float) -> SiteLoad:
        return cls(
            offsets_s=building.offsets_s,
            current_a=building.current_a,
            duration_s=building.duration_s,
            start=building.start,
            start_offset_s=start_offset_s,
            chargers_a=chargers_a,
        )

    def building_at(self, offset_s: float) -> Phases:
        return super().current_at(offset_s + self.start_offset_s)

    def current_at(self, offset_s: float) -> Phases:
        building = self.building_at(offset_s)
        chargers = self.chargers_a()
        return (
            building[0] + chargers[0],
            building[1] + chargers[1],
            building[2] + chargers[2],
        )
