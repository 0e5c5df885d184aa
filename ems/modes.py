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

With surplus hysteresis (`ems.solar_gate`) a `solar` session charges only while its gate
is open, and then as `min+solar` does: its minimum always, so that a passing cloud does
not stop it before the disable delay has run out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

from ems.site import ChargingMode
from optimizer.problem import Connector

SOLAR_MODES = frozenset({ChargingMode.SOLAR, ChargingMode.MIN_SOLAR})


def apply_modes(
    connectors: tuple[Connector, ...],
    modes: Mapping[str, ChargingMode],
    surplus_w: float,
    voltage_v: float,
    open_solar: Collection[str] | None = None,
) -> tuple[Connector, ...]:
    """The connectors with each present session bounded by its mode (`modes` by connector
    id; absent is `planned`). `surplus_w`: what the site would export without the solar
    sessions (0 when it imports). `open_solar`: the `solar` sessions whose gate is open
    (None: no hysteresis, each charges while the surplus pays for it)."""
    shares = _solar_shares(connectors, modes, max(surplus_w, 0.0), voltage_v, open_solar)
    return tuple(
        _bounded(c, modes.get(c.id, ChargingMode.PLANNED), shares.get(c.id, 0.0))
        for c in connectors
    )


def paid_solar(
    connectors: tuple[Connector, ...],
    modes: Mapping[str, ChargingMode],
    surplus_w: float,
    voltage_v: float,
) -> set[str]:
    """The `solar` sessions whose minimum the surplus pays for now, without hysteresis:
    what their gates are stepped with."""
    shares = _solar_shares(connectors, modes, max(surplus_w, 0.0), voltage_v, None)
    return {key for key in shares if modes[key] is ChargingMode.SOLAR}


def _solar_shares(
    connectors: tuple[Connector, ...],
    modes: Mapping[str, ChargingMode],
    surplus_w: float,
    voltage_v: float,
    open_solar: Collection[str] | None,
) -> dict[str, float]:
    """Per solar session, the current (A per phase) the surplus pays for: `min+solar`
    sessions (and `solar` ones with an open gate) take their minimum first, then the
    surplus left goes to the sessions in order of priority (the most urgent first, then
    the earliest), each up to its maximum, an ungated `solar` session only if it reaches
    its minimum. A `solar` session with a closed gate gets nothing."""
    solar = [
        c
        for c in connectors
        if c.ev_present
        and modes.get(c.id) in SOLAR_MODES
        and (open_solar is None or modes[c.id] is ChargingMode.MIN_SOLAR or c.id in open_solar)
    ]
    solar.sort(key=lambda c: (-c.priority, c.arrival is None, c.arrival or 0))
    watts = {c.id: voltage_v * len(c.active_phases) for c in solar}
    shares: dict[str, float] = {}
    left_w = surplus_w
    for c in solar:
        if modes[c.id] is ChargingMode.MIN_SOLAR or open_solar is not None:
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
