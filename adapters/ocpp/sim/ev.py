"""A simulated electric vehicle: how much current it takes and how its battery fills."""

from __future__ import annotations

from dataclasses import dataclass

IEC_MIN_CURRENT_A = 6.0
"""IEC 61851: an EV cannot charge below about 6 A; offered less, it takes nothing."""


@dataclass
class SimulatedEV:
    """An EV plugged into a connector.

    `charger_phases` lists the charger phases (1..3) the EV draws on: a 1-phase EV on a
    3-phase connector uses (1,); one wired to the charger's L2 uses (2,). Above
    `taper_from_pct` state of charge the EV lowers its own maximum linearly to 0 at 100 %.
    """

    max_current_a: float = 16.0
    charger_phases: tuple[int, ...] = (1, 2, 3)
    capacity_wh: float = 60_000.0
    soc_pct: float = 30.0
    taper_from_pct: float = 80.0
    min_current_a: float = IEC_MIN_CURRENT_A

    def __post_init__(self) -> None:
        if not self.charger_phases or not set(self.charger_phases) <= {1, 2, 3}:
            raise ValueError(f"charger_phases must be drawn from 1..3, got {self.charger_phases}")

    @property
    def phases(self) -> int:
        return len(self.charger_phases)

    def taper_a(self) -> float:
        """The most the battery accepts at its present state of charge."""
        if self.soc_pct >= 100.0:
            return 0.0
        if self.soc_pct <= self.taper_from_pct:
            return self.max_current_a
        share = (100.0 - self.soc_pct) / (100.0 - self.taper_from_pct)
        return self.max_current_a * share

    def draw_a(self, offered_a: float) -> float:
        """Per-phase current taken when `offered_a` is offered: min(offer, EV max, taper),
        and nothing at all if the offer or the taper is below the IEC minimum."""
        if offered_a < self.min_current_a:
            return 0.0
        wanted = min(offered_a, self.max_current_a, self.taper_a())
        return wanted if wanted >= self.min_current_a else 0.0

    def charge(self, energy_wh: float) -> None:
        self.soc_pct = min(100.0, self.soc_pct + 100.0 * energy_wh / self.capacity_wh)
