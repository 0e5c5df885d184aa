"""Surplus hysteresis for `solar` sessions: whether each may charge, so that an EV is not
switched on and off by every cloud.

A `solar` session starts only once the surplus has paid for its minimum current for
`solar_enable_delay_s` without a break, and stops only once it has fallen short of it for
`solar_disable_delay_s` without a break; meanwhile it keeps what it had (evcc's enable and
disable delays). While a session waits to stop it charges at its minimum, from the grid
where the sun does not pay for it: an EV paused and resumed every minute wears its
contactors and some EVs do not resume at all (see PITFALLS.md). `min+solar` sessions
always charge their minimum and need no gate.

A gate is kept per connector while a `solar` session is there: a new session, or one put
on `solar` again, starts closed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SolarGate:
    """`open`: the session may charge. `since`: when the surplus began to say otherwise
    (paying its minimum while closed, falling short while open); None while it agrees."""

    open: bool = False
    since: datetime | None = None


def step_gate(
    gate: SolarGate, paid: bool, now: datetime, enable_s: float, disable_s: float
) -> SolarGate:
    """The gate after a control step at `now` in which the surplus did (`paid`) or did not
    pay for the session's minimum."""
    if paid == gate.open:
        return SolarGate(gate.open)
    since = gate.since or now
    wait_s = enable_s if paid else disable_s
    if (now - since).total_seconds() >= wait_s:
        return SolarGate(paid)
    return SolarGate(gate.open, since)


def step_gates(
    gates: Mapping[str, SolarGate],
    solar: Collection[str],
    paid: Collection[str],
    now: datetime,
    enable_s: float,
    disable_s: float,
) -> dict[str, SolarGate]:
    """The gates of the `solar` sessions now (by connector id; those gone are dropped),
    given which of them the surplus paid the minimum of."""
    return {
        key: step_gate(gates.get(key, SolarGate()), key in paid, now, enable_s, disable_s)
        for key in solar
    }
