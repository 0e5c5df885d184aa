"""A simulated EV: draws what it is allowed up to its own maximum, and less as its
battery fills (the tail the controller is not told about and must observe).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BATTERY_WH = 60_000.0
TAPER_START_SOC = 0.8
"""Above this state of charge the EV's maximum falls linearly..."""
TAPER_END_FACTOR = 0.2
"""...down to this fraction of its maximum at 100 %."""
TARGET_SOC = 0.9
"""The state of charge a request is taken to end at when the battery allows it."""
BATTERIES = ("tapering", "ideal")
"""The battery models a replay offers: `tapering` (the tail above `TAPER_START_SOC`) or
`ideal` (the EV's maximum until its request is met, ACN-Sim's default battery)."""


def taper_factor(soc: float) -> float:
    """The fraction of its maximum current an EV accepts at state of charge `soc`."""
    if soc <= TAPER_START_SOC:
        return 1.0
    slope = (1.0 - TAPER_END_FACTOR) / (1.0 - TAPER_START_SOC)
    return max(TAPER_END_FACTOR, 1.0 - slope * (soc - TAPER_START_SOC))


def battery_size_wh(energy_wh: float, battery_wh: float | None) -> float:
    """The battery behind a request: the given size, or the default, never smaller than
    the request needs to end at `TARGET_SOC` from an empty battery."""
    size = battery_wh if battery_wh is not None else DEFAULT_BATTERY_WH
    return max(size, energy_wh / TARGET_SOC)


def arrival_soc(energy_wh: float, battery_wh: float) -> float:
    """The state of charge at arrival such that the request ends at `TARGET_SOC`."""
    return max(0.0, TARGET_SOC - energy_wh / battery_wh)


@dataclass
class SimulatedEv:
    """The state of one plugged-in EV during a replay.

    `max_current_a` is the per-phase current its on-board charger can take (already capped
    by the connector), `phases` how many phases it draws on.
    """

    max_current_a: float
    phases: int
    voltage_v: float
    energy_wh: float
    battery_wh: float
    delivered_wh: float = 0.0
    tapering: bool = True
    """False: an ideal battery, no tail."""

    @property
    def soc(self) -> float:
        return arrival_soc(self.energy_wh, self.battery_wh) + self.delivered_wh / self.battery_wh

    @property
    def remaining_wh(self) -> float:
        return max(0.0, self.energy_wh - self.delivered_wh)

    def acceptable_a(self) -> float:
        """The most it draws now: its maximum, tapered by the battery's state of charge."""
        if self.remaining_wh <= 0.0:
            return 0.0
        if not self.tapering:
            return self.max_current_a
        return self.max_current_a * taper_factor(self.soc)

    def charge(self, allowed_a: float, seconds: float) -> float:
        """Draw for `seconds` under `allowed_a`; returns the average per-phase current.

        The EV stops once its request is met, so the last step may be drawn in part.
        """
        current_a = max(0.0, min(allowed_a, self.acceptable_a()))
        if current_a <= 0.0 or seconds <= 0.0:
            return 0.0
        energy_wh = current_a * self.phases * self.voltage_v * seconds / 3600.0
        if energy_wh > self.remaining_wh:
            current_a *= self.remaining_wh / energy_wh
            energy_wh = self.remaining_wh
        self.delivered_wh += energy_wh
        return current_a
