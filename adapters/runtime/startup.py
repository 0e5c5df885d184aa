"""What the controller must hear first after a (re)start: what the store remembers.

The central system does not announce the sessions that were running when the service
stopped: the chargers simply continue them with the same transaction ids. Without them
the controller would treat those connectors as idle and give their share to others, so
the open transactions, and the last status of every connector, are replayed from the
store as events before anything live.

Fallback profiles are not sent from here: the controller hands out a charger's station
maximum and default profiles each time the charger connects (the same commands
`Controller.startup` gives), and a charger can only be sent anything once connected.
"""

from __future__ import annotations

import logging

from adapters.storage.repository import Store
from ems.events import ConnectorStatus, Event, SessionStarted, StatusChanged
from ems.site import SiteConfig, connector_key

LOG = logging.getLogger(__name__)

_OPEN_TRANSACTIONS_READ = 10_000
"""Enough for any site: normally at most one open transaction per connector."""


def remembered_events(store: Store, site: SiteConfig) -> list[Event]:
    """Connector statuses, then open transactions (the newest per connector), as events."""
    known = {c.key for c in site.connectors()}
    events: list[Event] = []
    for record in store.list_connectors():
        key = connector_key(record.charger_id, record.connector_id)
        if key not in known:
            continue
        try:
            status = ConnectorStatus(record.status)
        except ValueError:
            continue
        events.append(
            StatusChanged(
                record.charger_id, record.connector_id, status, record.updated_at, record.error_code
            )
        )
    restored: set[str] = set()
    for tx in store.list_transactions(open_only=True, limit=_OPEN_TRANSACTIONS_READ):
        key = connector_key(tx.charger_id, tx.connector_id)
        if key not in known or key in restored or tx.started_at is None:
            continue
        restored.add(key)
        LOG.info(
            "%s: transaction %s still open since %s; the controller keeps allocating to it",
            key,
            tx.ocpp_id,
            tx.started_at.isoformat(timespec="seconds"),
        )
        events.append(
            SessionStarted(
                tx.charger_id,
                tx.connector_id,
                tx.ocpp_id,
                tx.started_at,
                id_token=tx.id_token,
                meter_start_wh=tx.meter_start_wh,
            )
        )
    return events
