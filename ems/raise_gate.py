"""A raise goes out only into room that is proven free.

Lowerings go out at once, but a charger may still draw its old limit until it accepts the
new one and its EV follows (`ems.bounds`). A raise sent into the room a lowering is about
to free could be in force first — on another charger, over another connection — and for
that moment the site would carry both. So every raise is checked against the connectors'
*proven* bounds: the base load, plus what every other connector may still draw as far as
the controller can prove, plus the raised limit must fit every limit the raise adds load
to. A raise that does not fit is held; it goes out once the bounds have come down.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from ems.capacity import Capacity
from ems.limit_check import check_loads, circuit_path, load_totals, violations
from ems.phases import PHASES, ZERO, add, larger
from ems.site import ConnectorConfig, SiteConfig
from optimizer.problem import Phase, PhaseTriple

Loads = Mapping[str, tuple[ConnectorConfig, PhaseTriple]]


class Verdict(NamedTuple):
    """Whether a raise fits. A named tuple rather than a frozen dataclass: one is made
    for every raise tried at every step."""

    fits: bool
    broken: tuple[str, ...]
    """The limits the raise would add load to that the proven loads already fill."""


def touched_limits(site: SiteConfig, config: ConnectorConfig, extra_a: PhaseTriple) -> set[str]:
    """The names of the limits that `extra_a` on `config` adds load to."""
    phases = [p for p in PHASES if extra_a[p] > 0]
    names = {f"site-{p.name}" for p in phases}
    if phases:
        names.add("site-power")
    for circuit_id in circuit_path(site, config.circuit):
        names.update(f"circuit-{circuit_id}-{p.name}" for p in phases)
    return names


class Others(NamedTuple):
    """Every connector's proven load but one's, summed (`others_of`): a raise that does
    not fit asks for them again to find the part that does (`room_a`, `check_raise`),
    and they are the same sums."""

    site_a: PhaseTriple
    """The fixed load and the others' loads on the site."""
    circuits_a: dict[str, PhaseTriple]
    """The others' loads on each circuit the connector hangs on (without the reserved)."""


def others_of(site: SiteConfig, capacity: Capacity, loads: Loads, key: str) -> Others:
    """`Others` of `key`, summed in the order of `loads` (`load_totals`)."""
    config, _ = loads[key]
    others = [load for k, load in loads.items() if k != key]
    path = circuit_path(site, config.circuit)
    return Others(*load_totals(site, capacity.fixed_load_a, others, path))


def raised(current_a: PhaseTriple, wanted_a: PhaseTriple) -> PhaseTriple:
    """Phase by phase, the higher of the two: a sent limit counts at the higher of old and
    new until the charger answers."""
    return larger(current_a, wanted_a)


def check_raise(
    site: SiteConfig,
    capacity: Capacity,
    loads: Loads,
    key: str,
    wanted_a: PhaseTriple,
    level_a: PhaseTriple,
    others: Others | None = None,
) -> Verdict:
    """Whether `key` may go from `level_a` (what it draws now, as far as known) to
    `wanted_a`, with every other connector at its proven load (`others`, if summed
    already).

    The connector itself counts at `wanted_a`: it is what the command lets it draw once
    in force. The limits checked are those it adds load to beyond `level_a`; a connector
    counted at its maximum for want of a confirmed profile is so no less when it draws
    little, and sending it more than it draws is a raise all the same.
    """
    config, _ = loads[key]
    extra = (
        max(wanted_a[0] - level_a[0], 0.0),
        max(wanted_a[1] - level_a[1], 0.0),
        max(wanted_a[2] - level_a[2], 0.0),
    )
    if max(extra) <= 1e-9:
        return Verdict(True, ())
    if others is None:
        others = others_of(site, capacity, loads, key)
    # the others' sums, then its own load added last: as `check_loads` would sum them, to
    # the last bit; only the circuits it hangs on, as no other is among the limits it adds
    # load to
    circuit_fixed_a = capacity.circuit_reserved_a
    circuits = {
        cid: add(add(load, wanted_a), circuit_fixed_a.get(cid, ZERO))
        for cid, load in others.circuits_a.items()
    }
    path = circuit_path(site, config.circuit)
    broken = violations(site, add(others.site_a, wanted_a), circuits, path)
    hit = tuple(sorted(set(broken) & touched_limits(site, config, extra)))
    return Verdict(not hit, hit)


def check_added(
    site: SiteConfig,
    capacity: Capacity,
    loads: Loads,
    added: list[tuple[ConnectorConfig, PhaseTriple]],
) -> Verdict:
    """Whether `added` load fits on top of `loads` and the fixed load, on every limit it
    adds to (a limit already full from elsewhere holds no raise, but stops no other)."""
    added = [(c, extra) for c, extra in added if max(extra) > 1e-9]
    if not added:
        return Verdict(True, ())
    trial: Iterable[tuple[ConnectorConfig, PhaseTriple]] = [*loads.values(), *added]
    broken = check_loads(site, capacity.fixed_load_a, capacity.circuit_reserved_a, trial)
    touched: set[str] = set()
    for config, extra in added:
        touched |= touched_limits(site, config, extra)
    hit = tuple(sorted(set(broken) & touched))
    return Verdict(not hit, hit)


def room_a(
    site: SiteConfig,
    capacity: Capacity,
    loads: Loads,
    key: str,
    phases: Iterable[Phase],
    others: Others | None = None,
) -> float:
    """The most `key` may draw on each of `phases` with every other connector at its
    proven load (`others`, if summed already): the least room any limit it hangs on leaves
    (a site phase, each circuit on its path, the site's power cap shared over its phases).
    Zero where one is full."""
    config, _ = loads[key]
    phases = tuple(phases)
    if not phases:
        return 0.0
    path = circuit_path(site, config.circuit)
    total, per_circuit = others if others is not None else others_of(site, capacity, loads, key)
    limits = site.limits
    room = min(limits.phase_limit_a - total[p] for p in phases)
    if limits.power_limit_w is not None:
        power_room_a = limits.power_limit_w / limits.voltage_v - sum(total)
        room = min(room, power_room_a / len(phases))
    if path:
        by_id = {c.id: c for c in site.circuits}
        for circuit_id in path:
            used = add(
                per_circuit.get(circuit_id, ZERO),
                capacity.circuit_reserved_a.get(circuit_id, ZERO),
            )
            room = min(room, min(by_id[circuit_id].limit_a - used[p] for p in phases))
    return max(room, 0.0)
