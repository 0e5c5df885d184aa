"""Checking a set of per-connector loads against the site and circuit limits.

Constraint names follow the optimizer's (`site-L1`, `circuit-<id>-L2`, `site-power`) so the
controller, the view and the tests speak of limits the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ems.phases import ZERO, add
from ems.site import ConnectorConfig, SiteConfig
from optimizer.problem import Phase, PhaseTriple

TOLERANCE_A = 1e-6


def circuit_path(site: SiteConfig, circuit_id: str | None) -> tuple[str, ...]:
    """The circuit and every circuit above it, innermost first."""
    parents = {c.id: c.parent for c in site.circuits}
    path: list[str] = []
    node = circuit_id
    while node is not None and node not in path:
        path.append(node)
        node = parents.get(node)
    return tuple(path)


def circuit_loads(
    site: SiteConfig, loads: Iterable[tuple[ConnectorConfig, PhaseTriple]]
) -> dict[str, PhaseTriple]:
    """Per circuit, the sum of the loads hanging on it or on any circuit below it."""
    totals = {c.id: ZERO for c in site.circuits}
    paths: dict[str | None, tuple[str, ...]] = {}  # the raise gate asks this for every try
    for connector, load in loads:
        path = paths.get(connector.circuit)
        if path is None:
            path = paths[connector.circuit] = circuit_path(site, connector.circuit)
        for circuit_id in path:
            totals[circuit_id] = add(totals[circuit_id], load)
    return totals


def violations(
    site: SiteConfig,
    site_load_a: PhaseTriple,
    circuit_load_a: Mapping[str, PhaseTriple],
) -> tuple[str, ...]:
    """Names of the limits that the given totals exceed."""
    broken: list[str] = []
    limit = site.limits.phase_limit_a
    for phase in Phase:
        if site_load_a[phase] > limit + TOLERANCE_A:
            broken.append(f"site-{phase.name}")
    power_limit = site.limits.power_limit_w
    if power_limit is not None:
        power_w = sum(site_load_a) * site.limits.voltage_v
        if power_w > power_limit + TOLERANCE_A * site.limits.voltage_v:
            broken.append("site-power")
    for circuit in site.circuits:
        load = circuit_load_a.get(circuit.id, ZERO)
        for phase in Phase:
            if load[phase] > circuit.limit_a + TOLERANCE_A:
                broken.append(f"circuit-{circuit.id}-{phase.name}")
    return tuple(broken)


def check_loads(
    site: SiteConfig,
    fixed_a: PhaseTriple,
    circuit_fixed_a: Mapping[str, PhaseTriple],
    loads: Iterable[tuple[ConnectorConfig, PhaseTriple]],
) -> tuple[str, ...]:
    """The limits broken by `loads` on top of the fixed site and circuit loads."""
    loads = list(loads)
    site_total = fixed_a
    for _, load in loads:
        site_total = add(site_total, load)
    per_circuit = circuit_loads(site, loads)
    circuit_total = {
        cid: add(load, circuit_fixed_a.get(cid, ZERO)) for cid, load in per_circuit.items()
    }
    return violations(site, site_total, circuit_total)
