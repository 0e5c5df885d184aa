"""Checking a set of per-connector loads against the site and circuit limits.

Constraint names follow the optimizer's (`site-L1`, `circuit-<id>-L2`, `site-power`) so the
controller, the view and the tests speak of limits the same way.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache

from ems.phases import PHASES, ZERO, add
from ems.site import ConnectorConfig, SiteConfig
from optimizer.problem import Phase, PhaseTriple

TOLERANCE_A = 1e-6


def circuit_path(site: SiteConfig, circuit_id: str | None) -> tuple[str, ...]:
    """The circuit and every circuit above it, innermost first (`SiteConfig.circuit_paths`;
    a circuit the site does not know of has none above it)."""
    if circuit_id is None:
        return ()
    return site.circuit_paths.get(circuit_id, (circuit_id,))


@lru_cache(maxsize=1024)
def limits_over(path: tuple[str, ...], phases: tuple[Phase, ...]) -> tuple[str, ...]:
    """The names of every limit a load on `phases` under the circuits `path` is under,
    innermost first: each circuit's on those phases, then the site's and its power cap.
    Spelled once per wiring, as the rounding and the bottleneck ask for every connector at
    every step."""
    names = [f"circuit-{circuit_id}-{p.name}" for circuit_id in path for p in phases]
    names.extend(f"site-{p.name}" for p in phases)
    names.append("site-power")
    return tuple(names)


def load_totals(
    site: SiteConfig,
    fixed_a: PhaseTriple,
    loads: Iterable[tuple[ConnectorConfig, PhaseTriple]],
    only: Collection[str] | None = None,
) -> tuple[PhaseTriple, dict[str, PhaseTriple]]:
    """On the site, `fixed_a` plus every load; per circuit (of `only`, else every one),
    the sum of the loads hanging on it or on any circuit below it.

    One pass, adding the loads in the order given one after another as `add` would (the
    sums are the same to the last bit), without a call per load: the raise gate sums
    every connector, for the circuits the raise adds load to, for every raise it tries."""
    a, b, c = fixed_a
    sums = {k.id: [0.0, 0.0, 0.0] for k in site.circuits if only is None or k.id in only}
    paths: dict[str | None, list[list[float]]] = {}
    for connector, load in loads:
        x, y, z = load
        a += x
        b += y
        c += z
        path = paths.get(connector.circuit)
        if path is None:
            path = paths[connector.circuit] = [
                sums[circuit_id]
                for circuit_id in circuit_path(site, connector.circuit)
                if only is None or circuit_id in only
            ]
        for total in path:
            total[0] += x
            total[1] += y
            total[2] += z
    return (a, b, c), {circuit_id: (t[0], t[1], t[2]) for circuit_id, t in sums.items()}


def circuit_loads(
    site: SiteConfig,
    loads: Iterable[tuple[ConnectorConfig, PhaseTriple]],
    only: Collection[str] | None = None,
) -> dict[str, PhaseTriple]:
    """Per circuit (of `only`, else every one), the sum of the loads hanging on it or on
    any circuit below it."""
    return load_totals(site, ZERO, loads, only)[1]


def violations(
    site: SiteConfig,
    site_load_a: PhaseTriple,
    circuit_load_a: Mapping[str, PhaseTriple],
    circuits: Collection[str] | None = None,
) -> tuple[str, ...]:
    """Names of the limits that the given totals exceed: the site's, and those of
    `circuits` (every circuit when None)."""
    broken: list[str] = []
    limit = site.limits.phase_limit_a
    for phase in PHASES:
        if site_load_a[phase] > limit + TOLERANCE_A:
            broken.append(f"site-{phase.name}")
    power_limit = site.limits.power_limit_w
    if power_limit is not None:
        power_w = sum(site_load_a) * site.limits.voltage_v
        if power_w > power_limit + TOLERANCE_A * site.limits.voltage_v:
            broken.append("site-power")
    for circuit in site.circuits:
        if circuits is not None and circuit.id not in circuits:
            continue
        load = circuit_load_a.get(circuit.id, ZERO)
        for phase in PHASES:
            if load[phase] > circuit.limit_a + TOLERANCE_A:
                broken.append(f"circuit-{circuit.id}-{phase.name}")
    return tuple(broken)


def check_loads(
    site: SiteConfig,
    fixed_a: PhaseTriple,
    circuit_fixed_a: Mapping[str, PhaseTriple],
    loads: Iterable[tuple[ConnectorConfig, PhaseTriple]],
    circuits: Collection[str] | None = None,
) -> tuple[str, ...]:
    """The limits broken by `loads` on top of the fixed site and circuit loads: the
    site's, and those of `circuits` (every circuit when None)."""
    site_load, per_circuit = load_totals(site, fixed_a, loads, circuits)
    circuit_total = {
        cid: add(load, circuit_fixed_a.get(cid, ZERO)) for cid, load in per_circuit.items()
    }
    return violations(site, site_load, circuit_total, circuits)
