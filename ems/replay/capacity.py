"""Remaining capacity on every phase of the site and of each circuit, for the simple
strategies that hand out current one EV at a time."""

from __future__ import annotations

from ems.site import ConnectorConfig, SiteConfig
from optimizer.problem import Phase, PhaseTriple

SITE_NODE = ""


class Capacity:
    """Per-phase headroom of the site (after base load) and of every circuit, plus the
    headroom under the site's total power cap."""

    def __init__(
        self,
        site: SiteConfig,
        base_load_a: PhaseTriple,
        phase_limit_a: float,
        power_limit_w: float | None,
    ) -> None:
        self._voltage_v = site.limits.voltage_v
        self._remaining: dict[str, list[float]] = {
            SITE_NODE: [max(0.0, phase_limit_a - b) for b in base_load_a]
        }
        for circuit in site.circuits:
            self._remaining[circuit.id] = [circuit.limit_a] * 3
        self._parents = {c.id: c.parent for c in site.circuits}
        self._power_w = (
            None
            if power_limit_w is None
            else max(0.0, power_limit_w - sum(base_load_a) * self._voltage_v)
        )

    def path(self, connector: ConnectorConfig) -> tuple[str, ...]:
        """The nodes a connector's current flows through: its circuit, their parents, the site."""
        nodes = [SITE_NODE]
        circuit = connector.circuit
        while circuit is not None:
            nodes.append(circuit)
            circuit = self._parents.get(circuit)
        return tuple(nodes)

    @property
    def voltage_v(self) -> float:
        return self._voltage_v

    def remaining_a(self, node: str, phase: Phase) -> float:
        return self._remaining[node][phase]

    def remaining_power_w(self) -> float | None:
        return self._power_w

    def headroom_a(self, path: tuple[str, ...], phases: tuple[Phase, ...]) -> float:
        """The most per-phase current one more EV on these nodes and phases may take."""
        room = min(self._remaining[n][p] for n in path for p in phases)
        if self._power_w is not None:
            room = min(room, self._power_w / (self._voltage_v * len(phases)))
        return max(0.0, room)

    def take(self, path: tuple[str, ...], phases: tuple[Phase, ...], current_a: float) -> None:
        for node in path:
            for phase in phases:
                self._remaining[node][phase] -= current_a
        if self._power_w is not None:
            self._power_w -= current_a * len(phases) * self._voltage_v
