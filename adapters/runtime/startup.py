"""What the controller must hear first after a (re)start: what the store remembers.

The central system does not announce the sessions that were running when the service
stopped: the chargers simply continue them with the same transaction ids. Without them
the controller would treat those connectors as idle and give their share to others, so
the open transactions, and the last status of every connector, are replayed from the
store as events before anything live.

The profiles sent before the restart are recalled too, with the answers they got: a
charger that has not reconnected yet keeps enforcing what it accepted (a session profile
until it lapses, its default for good), and the controller counts it at that — not at
nothing, and not at what it would like it to be. So are a paused session's 0 A (its
pause dwell goes on), the operator's site-limit override, the charging modes the operator
chose for the open sessions (`adapters.runtime.mode_memory`), the billing period's peak
import so far (`adapters.runtime.demand_memory`), the site's load history
(`adapters.runtime.load_memory`) and the chargers caught drawing more than allowed
(`adapters.runtime.compliance_memory`).

Fallback profiles are not sent from here: the controller hands out a charger's station
maximum and default profiles each time the charger connects (the same commands
`Controller.startup` gives), and a charger can only be sent anything once connected.
"""

from __future__ import annotations

import logging
from datetime import datetime

from adapters.runtime.compliance_memory import remembered_noncompliance
from adapters.runtime.demand_memory import remembered_demand
from adapters.runtime.load_memory import remembered_load
from adapters.runtime.mode_memory import remembered_modes
from adapters.storage.limits import command_from_json
from adapters.storage.records import Registration
from adapters.storage.repository import Store
from ems.events import (
    ChargerAdmitted,
    ConnectorStatus,
    Event,
    ProfileRecalled,
    SessionStarted,
    SiteLimitChanged,
    StatusChanged,
)
from ems.site import SiteConfig, connector_key
from ems.site_limit import OVERRIDE_REASON

LOG = logging.getLogger(__name__)

_OPEN_TRANSACTIONS_READ = 10_000
"""Enough for any site: normally at most one open transaction per connector."""


OVERRIDE_SETTING = "site_limit_override"


def remember_override(store: Store, limit_a: float | None, at: datetime) -> None:
    """Keep the operator's site-limit override (None: the configured limit) across
    restarts."""
    if limit_a is None:
        store.delete_setting(OVERRIDE_SETTING)
    else:
        store.put_setting(OVERRIDE_SETTING, {"limit_a": limit_a}, at)


def remembered_override(store: Store) -> float | None:
    """The operator's site-limit override in force, None for none (or an unreadable one,
    which is logged: the configured fuse then holds)."""
    value = store.get_setting(OVERRIDE_SETTING)
    if value is None:
        return None
    limit = value.get("limit_a")
    if isinstance(limit, int | float) and not isinstance(limit, bool) and limit >= 0:
        return float(limit)
    LOG.error(
        "store: setting %s is not a limit (%r); the configured limit holds", OVERRIDE_SETTING, value
    )
    return None


def remembered_events(store: Store, site: SiteConfig, now: datetime) -> list[Event]:
    """Connector statuses, open transactions (the newest per connector) and the modes
    chosen for them, the profiles the chargers may still enforce, the operator's override,
    the billing period's peak so far, the site's load history and the chargers caught
    drawing more than allowed, as events."""
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
    restored: dict[str, tuple[str, str, int]] = {}
    for tx in store.list_transactions(open_only=True, limit=_OPEN_TRANSACTIONS_READ):
        key = connector_key(tx.charger_id, tx.connector_id)
        if key not in known or key in restored or tx.started_at is None:
            continue
        restored[key] = (tx.ocpp_id, tx.charger_id, tx.connector_id)
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
    configured = {ch.id for ch in site.chargers}
    for charger in store.list_chargers():
        if charger.charger_id not in configured and charger.registration != Registration.REJECTED:
            events.append(ChargerAdmitted(charger.charger_id, now))
            known.add(connector_key(charger.charger_id, 0))
    events.extend(remembered_modes(store, restored, now))
    events.extend(_recalled_profiles(store, known))
    override = remembered_override(store)
    if override is not None:
        LOG.warning("site limit %g A per phase (operator override, kept from before)", override)
        events.append(SiteLimitChanged(now, override, reason=OVERRIDE_REASON))
    events.extend(remembered_demand(store, now))
    events.extend(remembered_load(store, now))
    events.extend(remembered_noncompliance(store, known, now))
    return events


def _recalled_profiles(store: Store, known: set[str]) -> list[Event]:
    events: list[Event] = []
    for record in store.recall_profiles():
        key = connector_key(record.charger_id, record.connector_id)
        if key not in known:
            continue
        try:
            command = command_from_json(record.command)
        except (KeyError, TypeError, ValueError) as error:
            LOG.warning(
                "store: a %s profile of %s sent at %s is unreadable (%s); skipped",
                record.purpose,
                key,
                record.sent_at.isoformat(),
                error,
            )
            continue
        at = record.answered_at or record.sent_at
        events.append(ProfileRecalled(command, record.sent_at, record.status, at))
    return events
