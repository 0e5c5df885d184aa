"""The site's load history, kept in the store across restarts.

The controller forecasts the building's load from what the site imported a week or a day
before (`ems.load_history`): a controller that forgot it at a restart would plan with the
present import held on for a week. The history is written whenever the controller's view
shows a new one (a quarter hour closed: the view hands on the same tuple until then) and
recalled at start as a `LoadHistoryRecalled`.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

from adapters.storage.repository import Store
from ems.events import LoadHistoryRecalled
from ems.load_history import SLOT_S, Slots
from ems.view import ControllerView

LOG = logging.getLogger(__name__)

LOAD_SETTING = "load_history"


class LoadMemory:
    """Writes the load history to the store when it changes."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._kept: Slots = ()

    def keep(self, view: ControllerView, at: datetime) -> None:
        """Remember the view's load history, unless it is the one remembered last."""
        slots = view.load_slots
        if slots is self._kept or slots == self._kept:
            return
        value = {"slot_s": SLOT_S, "slots": [[slot, mean_w] for slot, mean_w in slots]}
        self._store.put_setting(LOAD_SETTING, value, at)
        self._kept = slots


def remembered_load(store: Store, now: datetime) -> list[LoadHistoryRecalled]:
    """The load history the store remembers, as the event that recalls it (none when it
    holds none, or an unreadable one, which is logged: the history then starts afresh)."""
    value = store.get_setting(LOAD_SETTING)  # logs one that is not a JSON object
    if value is None:
        return []
    slots = _slots(value)
    if slots is None:
        return _unreadable(value)
    LOG.info("load history: %d quarter hours kept from before", len(slots))
    return [LoadHistoryRecalled(now, slots)]


def _unreadable(value: object) -> list[LoadHistoryRecalled]:
    LOG.error(
        "store: setting %s is not a load history (%.200r); the site's load is learned afresh",
        LOAD_SETTING,
        value,
    )
    return []


def _slots(value: object) -> Slots | None:
    """The (slot index, mean W) pairs of a stored value; None unless it is one written
    with today's slot length, every pair an integer and a finite number."""
    if not isinstance(value, dict) or value.get("slot_s") != SLOT_S:
        return None
    pairs = value.get("slots")
    if not isinstance(pairs, list):
        return None
    slots: list[tuple[int, float]] = []
    for pair in pairs:
        if not isinstance(pair, list) or len(pair) != 2:
            return None
        slot, mean_w = pair
        if isinstance(slot, bool) or not isinstance(slot, int):
            return None
        if isinstance(mean_w, bool) or not isinstance(mean_w, int | float):
            return None
        if not math.isfinite(mean_w):
            return None
        slots.append((slot, float(mean_w)))
    return tuple(slots)
