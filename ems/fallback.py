"""Fallback currents: what every connector may draw when the controller is gone.

Each connector's default profile carries its fallback. They are chosen so that every
connector at its fallback at once still fits, on every phase, the site limit minus the
worst configured base load, every circuit's limit and the site's power cap. A charger's
configured `fallback_a` is kept when it fits; otherwise, and for chargers without one,
the remaining room of every limit is shared equally among the connectors on it, and each
connector takes the smallest share among the limits it is under.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ems.limit_check import circuit_path
from ems.phases import round_down
from ems.site import ConnectorConfig, SiteConfig
from optimizer.problem import Phase


@dataclass(frozen=True)
class LimitShare:
    """One limit the fallbacks must fit under, and how they fit."""

    name: str
    room: float
    """What the limit leaves for the fallbacks: A per phase, or W for `site-power`."""
    members: tuple[str, ...]
    weights: tuple[float, ...]
    """What one ampere of each member's fallback costs this limit (1, or W per A)."""
    total: float
    """The sum of the members' fallbacks, weighted, in the unit of `room`."""

    @property
    def fits(self) -> bool:
        return self.total <= self.room + 1e-6


@dataclass(frozen=True)
class FallbackPlan:
    fallback_a: Mapping[str, float]
    limits: tuple[LimitShare, ...]
    explanation: tuple[str, ...]


def compute_fallbacks(
    site: SiteConfig, fixed: Sequence[tuple[ConnectorConfig, float]] = ()
) -> FallbackPlan:
    """The fallbacks; `fixed` are connectors that draw what they draw whatever their
    default profile says (found drawing more than allowed, without smart charging, or not
    configured at all), each counted at its amount on every limit it is under and given
    no share: the others share what they leave, so the sum still fits."""
    connectors = site.connectors()
    lines: list[str] = []
    groups = _without_fixed(site, _limit_groups(site, connectors), fixed, lines)
    fixed_keys = {config.key for config, _ in fixed}
    connectors = tuple(c for c in connectors if c.key not in fixed_keys)
    configured = {
        c.key: min(ch.fallback_a, c.max_current_a)
        for ch in site.chargers
        if ch.fallback_a is not None
        for c in ch.connectors
        if c.key not in fixed_keys
    }
    kept = _fitting_configured(site, groups, configured, lines)
    computed = _equal_shares(connectors, groups, kept, lines)
    fallback = {
        c.key: _startable(c, kept.get(c.key, computed.get(c.key, 0.0)), lines) for c in connectors
    }
    fallback.update({key: 0.0 for key in fixed_keys})
    limits = tuple(_share(name, room, weights, fallback) for name, room, weights in groups)
    lines.extend(_check_line(limit) for limit in limits)
    return FallbackPlan(fallback, limits, tuple(lines))


_Group = tuple[str, float, dict[str, float]]
"""A limit: its name, the room it leaves, and each member's weight."""


def _without_fixed(
    site: SiteConfig,
    groups: list[_Group],
    fixed: Sequence[tuple[ConnectorConfig, float]],
    lines: list[str],
) -> list[_Group]:
    """The limits with the fixed connectors' draw taken off their room and the fixed
    connectors out of their members."""
    if not fixed:
        return groups
    voltage = site.limits.voltage_v
    taken: dict[str, float] = {}
    for config, amps in fixed:
        lines.append(f"{config.key}: counted at {amps:g} A whatever its fallback")
        for phase in config.phases:
            name = f"site-{phase.name}"
            taken[name] = taken.get(name, 0.0) + amps
            for circuit_id in circuit_path(site, config.circuit):
                name = f"circuit-{circuit_id}-{phase.name}"
                taken[name] = taken.get(name, 0.0) + amps
        taken["site-power"] = taken.get("site-power", 0.0) + amps * len(config.phases) * voltage
    keys = {config.key for config, _ in fixed}
    return [
        (
            name,
            max(room - taken.get(name, 0.0), 0.0),
            {k: w for k, w in members.items() if k not in keys},
        )
        for name, room, members in groups
    ]


def _limit_groups(site: SiteConfig, connectors: tuple[ConnectorConfig, ...]) -> list[_Group]:
    groups: list[_Group] = []
    limit = site.limits.phase_limit_a
    for phase in Phase:
        room = limit - site.worst_base_load_a[phase]
        members = {c.key: 1.0 for c in connectors if phase in c.phases}
        groups.append((f"site-{phase.name}", room, members))
    for circuit in site.circuits:
        below = [c for c in connectors if circuit.id in circuit_path(site, c.circuit)]
        for phase in Phase:
            members = {c.key: 1.0 for c in below if phase in c.phases}
            groups.append((f"circuit-{circuit.id}-{phase.name}", circuit.limit_a, members))
    power_limit = site.limits.power_limit_w
    if power_limit is not None:
        voltage = site.limits.voltage_v
        room = power_limit - sum(site.worst_base_load_a) * voltage
        members = {c.key: len(c.phases) * voltage for c in connectors}
        groups.append(("site-power", room, members))
    return [(name, max(room, 0.0), members) for name, room, members in groups if members]


def _fitting_configured(
    site: SiteConfig, groups: list[_Group], configured: dict[str, float], lines: list[str]
) -> dict[str, float]:
    """The configured fallbacks that fit together; a charger whose value does not fit a
    limit is dropped (and computed instead), the largest offender first."""
    kept = dict(configured)
    while True:
        overloaded = next(
            (
                (name, room, weights)
                for name, room, weights in groups
                if sum(kept.get(k, 0.0) * w for k, w in weights.items()) > room + 1e-6
            ),
            None,
        )
        if overloaded is None:
            break
        name, room, weights = overloaded
        worst_key = max((k for k in weights if k in kept), key=lambda k: kept[k] * weights[k])
        charger_id = worst_key.split("/")[0]
        charger = next(ch for ch in site.chargers if ch.id == charger_id)
        lines.append(
            f"{charger_id}: configured fallback {charger.fallback_a:g} A does not fit "
            f"{name} (room {room:g}); computed instead"
        )
        for connector in charger.connectors:
            kept.pop(connector.key, None)
    for charger in site.chargers:
        if charger.connectors and charger.connectors[0].key in kept:
            lines.append(f"{charger.id}: configured fallback {charger.fallback_a:g} A kept")
    return {k: round_down(v) for k, v in kept.items()}


def _equal_shares(
    connectors: tuple[ConnectorConfig, ...],
    groups: list[_Group],
    kept: dict[str, float],
    lines: list[str],
) -> dict[str, float]:
    """Per connector without a kept value: the smallest equal share among its limits."""
    share_of: dict[str, tuple[float, str]] = {}
    for name, room, weights in groups:
        fixed = sum(kept.get(k, 0.0) * w for k, w in weights.items())
        free = {k: w for k, w in weights.items() if k not in kept}
        if not free:
            continue
        left = max(room - fixed, 0.0)
        share = left / sum(free.values())
        unit = "W" if name == "site-power" else "A"
        lines.append(
            f"{name}: room {room:g} {unit} - configured {fixed:g} {unit} = {left:g} {unit} "
            f"shared by {len(free)} connector(s) -> {share:.2f} A each"
        )
        for key in free:
            if key not in share_of or share < share_of[key][0]:
                share_of[key] = (share, name)
    result: dict[str, float] = {}
    for connector in connectors:
        if connector.key in kept:
            continue
        share, name = share_of.get(connector.key, (connector.max_current_a, "its own max"))
        value = round_down(min(share, connector.max_current_a))
        result[connector.key] = value
        lines.append(f"{connector.key}: fallback {value:g} A, set by {name}")
    return result


def _startable(connector: ConnectorConfig, value: float, lines: list[str]) -> float:
    """The fallback, or 0 A where it is below the connector's minimum current: chargers
    differ on a limit an EV cannot charge at (IEC 61851 has none below 6 A): some pause,
    some charge at the minimum, above the limit. 0 A means the same to all of them, and no
    EV could use the smaller limit anyway."""
    if 0.0 < value < connector.min_current_a:
        lines.append(
            f"{connector.key}: {value:g} A is below its minimum {connector.min_current_a:g} A:"
            " fallback 0 A, EVs wait for the controller"
        )
        return 0.0
    return value


def _share(
    name: str, room: float, weights: dict[str, float], fallback: Mapping[str, float]
) -> LimitShare:
    keys = tuple(weights)
    total = sum(fallback[k] * weights[k] for k in keys)
    return LimitShare(name, room, keys, tuple(weights[k] for k in keys), total)


def _check_line(limit: LimitShare) -> str:
    unit = "W" if limit.name == "site-power" else "A"
    verdict = "fits" if limit.fits else "DOES NOT FIT"
    total = f"{limit.total:g} {unit}"
    return f"check {limit.name}: fallbacks sum to {total} of {limit.room:g} {unit}: {verdict}"
