"""Charging modes (`ChargingMode`) as bounds on a session's part of the problem.

A mode only ever lowers what a session may draw or drops what the look-ahead plans for it,
so no mode relaxes a limit:

- `fast`: the session is not planned (its departure is left out), so it takes its share
  now, however dear now is;
- `planned`: as the session states it: the look-ahead plans its need by its departure;
- `solar`: not planned, and its EV maximum is its share of the site's surplus (what it
  would export without the solar sessions), handed out by priority so that as many
  sessions as it pays for reach their minimum; one it cannot pay the minimum of waits;
- `min+solar`: its minimum always, and a share of the surplus left on top.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from ems.site import ChargingMode
from optimizer.problem import Connector

SOLAR_MODES = frozenset({ChargingMode.SOLAR, ChargingMode.MIN_SOLAR})


def apply_modes(
    connectors: tuple[Connector, ...],
    modes: Mapping[str, ChargingMode],
    surplus_w: float,
    voltage_v: float,
) -> tuple[Connector, ...]:
    """The connectors with each present session bounded by its mode (`modes` by connector
    id; absent is `planned`). `surplus_w`: what the site would export without the solar
    sessions (0 when it imports)."""
    shares = _solar_shares(connectors, modes, max(surplus_w, 0.0), voltage_v)
    return tuple(
        _bounded(c, modes.get(c.id, ChargingMode.PLANNED), shares.get(c.id, 0.0))
        for c in connectors
    )


def _solar_shares(
    connectors: tuple[Connector, ...],
    modes: Mapping[str, ChargingMode],
    surplus_w: float,
    voltage_v: float,
) -> dict[str, float]:
    """Per solar session, the current (A per phase) the surplus pays for: `min+solar`
    sessions take their minimum first, then the surplus left goes to the sessions in order
    of priority (the most urgent first, then the earliest), each up to its maximum, a
    `solar` session only if it reaches its minimum."""
    solar = [c for c in connectors if c.ev_present and modes.get(c.id) in SOLAR_MODES]
    solar.sort(key=lambda c: (-c.priority, c.arrival is None, c.arrival or 0))
    watts = {c.id: voltage_v * len(c.active_phases) for c in solar}
    shares: dict[str, float] = {}
    left_w = surplus_w
    for c in solar:
        if modes[c.id] is ChargingMode.MIN_SOLAR:
            shares[c.id] = c.min_current_a
            left_w -= c.min_current_a * watts[c.id]
    left_w = max(left_w, 0.0)
    for c in solar:
        most_a = min(c.max_current_a, c.ev_max_current_a or c.max_current_a)
        has_a = shares.get(c.id, 0.0)
        more_a = min(most_a - has_a, left_w / watts[c.id])
        if has_a + more_a < c.min_current_a or more_a <= 0.0:
            continue
        shares[c.id] = has_a + more_a
        left_w -= more_a * watts[c.id]
    return shares


def _bounded(connector: Connector, mode: ChargingMode, share_a: float) -> Connector:
    if not connector.ev_present or mode is ChargingMode.PLANNED:
        return connector
    unplanned = replace(connector, departure=None)
    if mode is ChargingMode.FAST:
        return unplanned
    if connector.ev_max_current_a is not None:
        share_a = min(share_a, connector.ev_max_current_a)
    return replace(unplanned, ev_max_current_a=share_a)
