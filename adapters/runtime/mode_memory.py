"""The operator's charging mode of each running session, kept in the store across restarts.

A mode chosen over the API or the status page holds until the session ends. The
controller restarts mid-session (updates, crashes) and the chargers carry on with the same
transaction ids, so a session put on `solar` would otherwise come back in its charger's
mode and charge from the grid. Each choice is written under its connector with the
transaction it was made for; at start a choice is recalled as a `ModeChosen` only for the
transaction still open there, so a later session on that connector does not inherit it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from adapters.storage.repository import Store
from ems.events import ModeChosen
from ems.site import ChargingMode

LOG = logging.getLogger(__name__)

MODES_SETTING = "session_modes"


def remember_mode(
    store: Store,
    key: str,
    transaction_id: str,
    mode: ChargingMode | None,
    running: Mapping[str, str],
    at: datetime,
) -> None:
    """Keep `mode` for the session `transaction_id` on connector `key` (None forgets the
    choice). `running`: the open transaction per connector key; choices for sessions that
    ended are dropped on the way."""
    kept = {
        other: entry
        for other, entry in _entries(store).items()
        if other != key and running.get(other) == entry[0]
    }
    if mode is not None:
        kept[key] = (transaction_id, mode)
    value = {k: {"transaction_id": tx, "mode": m.value} for k, (tx, m) in kept.items()}
    store.put_setting(MODES_SETTING, value, at)


def remembered_modes(
    store: Store, running: Mapping[str, tuple[str, str, int]], now: datetime
) -> list[ModeChosen]:
    """The choices for the sessions still open, as events. `running`: per connector key,
    the open transaction and its charger and connector id."""
    events: list[ModeChosen] = []
    for key, (transaction_id, mode) in _entries(store).items():
        session = running.get(key)
        if session is None or session[0] != transaction_id:
            continue
        LOG.info("%s: session %s charges in mode %s (chosen before)", key, transaction_id, mode)
        events.append(ModeChosen(session[1], session[2], now, mode))
    return events


def _entries(store: Store) -> dict[str, tuple[str, ChargingMode]]:
    """The readable entries of the setting; an unreadable one is logged and skipped (its
    session then charges in its default mode)."""
    value = store.get_setting(MODES_SETTING) or {}
    entries: dict[str, tuple[str, ChargingMode]] = {}
    for key, entry in value.items():
        try:
            entries[key] = (str(entry["transaction_id"]), ChargingMode(entry["mode"]))
        except (KeyError, TypeError, ValueError):
            LOG.error("store: setting %s[%s] is not a mode choice (%r)", MODES_SETTING, key, entry)
    return entries
