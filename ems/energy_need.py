"""Counting down a session's stated energy need from the charger's energy register.

An EV states how much energy it still needs (`EnergyNeed`); from then on the remaining
need is the stated one minus what the connector's register has counted since. The base of
the count is the register as last sampled in this session, or, before any sample, the
register at the start of the transaction (`meter_start_wh`); with neither, the first
sample that arrives becomes the base. A sample of another transaction, or taken before
this session began, does not count.
"""

from __future__ import annotations

from ems.events import MeterSample
from ems.state import Session


def state_need(session: Session, energy_wh: float) -> None:
    """Record a newly stated need, counted from the register as it stands now."""
    session.need_wh = energy_wh
    base = session.register_wh if session.register_wh is not None else session.energy_start_wh
    session.need_from_wh = base


def observe_register(session: Session, sample: MeterSample) -> None:
    """Record the register reading of a sample of this session's connector."""
    energy_wh = sample.energy_wh
    if energy_wh is None or sample.at < session.started_at:
        return
    if sample.transaction_id not in (None, session.transaction_id):
        return
    session.register_wh = energy_wh
    if session.need_wh is not None and session.need_from_wh is None:
        session.need_from_wh = energy_wh


def remaining_need_wh(session: Session) -> float | None:
    """The energy still needed; None when no need was stated."""
    if session.need_wh is None:
        return None
    if session.need_from_wh is None or session.register_wh is None:
        return session.need_wh
    delivered = max(session.register_wh - session.need_from_wh, 0.0)
    return max(session.need_wh - delivered, 0.0)
