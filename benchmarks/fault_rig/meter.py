"""The site meter: `SiteMeter`, an Eastron SDM630 on Modbus TCP measuring the true site
current (the building and every EV) until a `MeterFault` makes it lie: frozen, lagging,
blind to the EVs, sign inverted, zeros (the wrong function code) or words swapped (the wrong
word order)."""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from adapters.modbus.profile import LoadProfile
from adapters.modbus.register_map import Quantity, load_map
from adapters.modbus.simulator import MeterSimulator
from benchmarks.fault_rig.site import PhaseTriple


class MeterFault(enum.StrEnum):
    FREEZE = "freeze"
    """The last values are served unchanged (a gateway caching a dead meter)."""
    LAG = "lag"
    """Every value is `lag_s` seconds old (a slow gateway, a buffered bus)."""
    BLIND = "blind"
    """The EVs are not measured: the meter is wired before the EV sub-board."""
    INVERT = "invert"
    """Import reads as export: currents and powers with the wrong sign."""
    WRONG_FC = "wrong_fc"
    """Every register reads 0: an Eastron meter read with function code 03, not 04."""
    WORD_ORDER = "word_order"
    """The two words of every float swapped: the wrong word order."""


class SiteMeter(MeterSimulator):
    """An Eastron SDM630 on Modbus TCP measuring the true site: `site_a()` per phase (the
    building and every EV), its energy counter integrating the true power. From the moment
    `fault` is set, it lies the way `fault` says."""

    def __init__(
        self,
        site_a: Callable[[], PhaseTriple],
        building_a: Callable[[], PhaseTriple],
        lag_s: float = 6.0,
    ) -> None:
        super().__init__(load_map("sdm630"), LoadProfile.constant((0.0, 0.0, 0.0)))
        self._site_a = site_a
        self._building_a = building_a
        self.lag_s = lag_s
        self.fault: MeterFault | None = None
        self._history: deque[tuple[float, dict[Quantity, float]]] = deque(maxlen=4000)
        self._energy_wh = 1_234_567.0
        self._energy_at: float | None = None

    def record(self) -> dict[Quantity, float]:
        """What the meter measures now (the truth), also kept for a lagging meter."""
        now = time.monotonic()
        values = self._measured(self._site_a())
        total = values[Quantity.TOTAL_POWER]
        if self._energy_at is not None:
            self._energy_wh += max(total, 0.0) * (now - self._energy_at) / 3600.0
        self._energy_at = now
        values[Quantity.ENERGY_IMPORT] = self._energy_wh
        self._history.append((now, values))
        return values

    def _measured(self, currents: PhaseTriple) -> dict[Quantity, float]:
        values = super().values_at(self.sim_time())  # voltages and frequency, never still
        total = 0.0
        for phase, amperes in zip((1, 2, 3), currents, strict=True):
            power = values[Quantity(f"voltage_l{phase}")] * amperes
            values[Quantity(f"current_l{phase}")] = amperes
            values[Quantity(f"power_l{phase}")] = power
            total += power
        values[Quantity.TOTAL_POWER] = total
        return values

    def history_s(self) -> float:
        """How far back the values kept for a lagging meter reach."""
        return self._history[-1][0] - self._history[0][0] if self._history else 0.0

    def values_at(self, sim_time_s: float) -> dict[Quantity, float]:
        truth = self.record()
        if self.fault is MeterFault.LAG:
            moment = time.monotonic() - self.lag_s
            old = next((v for t, v in reversed(self._history) if t <= moment), None)
            return dict(old if old is not None else self._history[0][1])
        values = dict(truth)
        if self.fault is MeterFault.BLIND:
            values |= self._measured(self._building_a())
            values[Quantity.ENERGY_IMPORT] = truth[Quantity.ENERGY_IMPORT]
        if self.fault is MeterFault.INVERT:
            for quantity, value in values.items():
                if quantity.kind in ("current", "power"):
                    values[quantity] = -value
        return values

    def _write(self, registers: list[int], start: int, sim_time_s: float, fault: Any) -> None:
        if self.fault is MeterFault.FREEZE:
            self.record()  # the registers keep what they last held
            return
        if self.fault is MeterFault.WRONG_FC:
            self.record()
            for spec in self.register_map.registers:
                offset = spec.address - start
                registers[offset : offset + spec.words] = [0] * spec.words
            return
        super()._write(registers, start, sim_time_s, fault)
        if self.fault is MeterFault.WORD_ORDER:
            for spec in self.register_map.registers:
                offset = spec.address - start
                if spec.words == 2:
                    registers[offset], registers[offset + 1] = (
                        registers[offset + 1],
                        registers[offset],
                    )
