"""The billing period's peak import so far, kept in the store across restarts.

A demand charge bills the month's highest window average import: a controller that
forgot it at a restart would plan the rest of the month as if no peak had been paid for,
and spend the demand charge again. The peak is written whenever the controller's view
shows it changed (a window closed higher, a new billing period began) and recalled at
start as a `DemandRecalled`; the core keeps it only within the billing period it belongs
to, so a peak of last month is dropped.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

from adapters.storage.repository import Store
from ems.events import DemandRecalled
from ems.view import ControllerView

LOG = logging.getLogger(__name__)

DEMAND_SETTING = "demand_peak"


class DemandMemory:
    """Writes the peak so far to the store when it changes."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._kept: tuple[datetime, float] | None = None

    def keep(self, view: ControllerView, at: datetime) -> None:
        """Remember the view's peak, unless it is the one remembered last."""
        if view.demand_period_start is None or not math.isfinite(view.demand_peak_w):
            return
        peak = (view.demand_period_start, view.demand_peak_w)
        if peak == self._kept:
            return
        value = {"period_start": peak[0].isoformat(), "peak_w": peak[1]}
        self._store.put_setting(DEMAND_SETTING, value, at)
        self._kept = peak


def remembered_demand(store: Store, now: datetime) -> list[DemandRecalled]:
    """The peak the store remembers, as the event that recalls it (none when it holds
    none, or an unreadable one, which is logged: the period's peak then starts afresh)."""
    value = store.get_setting(DEMAND_SETTING)
    if value is None:
        return []
    peak_w = value.get("peak_w")
    period_start = _aware_moment(value.get("period_start"))
    if period_start is None or isinstance(peak_w, bool) or not isinstance(peak_w, int | float):
        LOG.error(
            "store: setting %s is not a peak (%r); the billing period's peak starts afresh",
            DEMAND_SETTING,
            value,
        )
        return []
    LOG.info(
        "billing period from %s: peak so far %.1f kW (kept from before)",
        period_start.isoformat(),
        peak_w / 1000.0,
    )
    return [DemandRecalled(now, period_start, float(peak_w))]


def _aware_moment(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None
