"""The connectors whose chargers were caught drawing more than allowed, kept in the store
across restarts.

Such a charger's sessions start on probation (`SiteState.on_probation`): its maximum
held off the others' room until a sample shows it within its limit. A controller that
forgot it at a restart (an update, a crash) would trust it again at once, and raise the
others into the room it may still take. The connectors are written whenever the
controller's view shows one caught for the first time, and recalled at start as a
`NonComplianceRecalled`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime

from adapters.storage.repository import Store
from ems.events import NonComplianceRecalled
from ems.view import ControllerView

LOG = logging.getLogger(__name__)

COMPLIANCE_SETTING = "caught_drawing_too_much"


class ComplianceMemory:
    """Writes the connectors caught drawing too much to the store when they change."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._kept: tuple[str, ...] | None = None

    def keep(self, view: ControllerView, at: datetime) -> None:
        """Remember the view's caught connectors, unless they are the ones remembered last."""
        caught = tuple(sorted(c.key for c in view.connectors if c.caught_before))
        if caught == self._kept or (self._kept is None and not caught):
            return
        self._store.put_setting(COMPLIANCE_SETTING, {"connectors": list(caught)}, at)
        self._kept = caught


def remembered_noncompliance(
    store: Store, known: Collection[str], now: datetime
) -> list[NonComplianceRecalled]:
    """The caught connectors the store remembers among `known`, as the event that recalls
    them (none when it holds none; an unreadable setting is logged and read as none)."""
    value = store.get_setting(COMPLIANCE_SETTING)
    if value is None:
        return []
    keys = value.get("connectors")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        LOG.error(
            "store: setting %s is not a list of connectors (%r); none is on probation",
            COMPLIANCE_SETTING,
            value,
        )
        return []
    caught = tuple(k for k in keys if k in known)
    if not caught:
        return []
    LOG.warning(
        "caught drawing more than allowed before the restart, sessions on probation: %s",
        ", ".join(caught),
    )
    return [NonComplianceRecalled(now, caught)]
