"""Building a connector runtime in a given situation, for the rule tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from ems.commands import LimitPeriod, ProfilePurpose, SetLimit
from ems.state import ConnectorRuntime, Sent, Session, SiteState
from tests.ems.fakes import T0, connector


def accepted(runtime: ConnectorRuntime, command: SetLimit, at: datetime = T0) -> None:
    """The charger accepted `command` at `at` (its EV follows at once)."""
    slot = runtime.proof.slot(command.purpose)
    assert slot is not None
    slot.sent(command)
    slot.accept(command, at, command.limit_now_a, reaction_s=0.0)


def install_default(runtime: ConnectorRuntime, at: datetime = T0) -> None:
    """The connector's charger holds its default profile at its fallback."""
    period = LimitPeriod(0, runtime.fallback_a)
    key = runtime.config
    default = SetLimit(
        key.charger_id, key.connector_id, ProfilePurpose.TX_DEFAULT, (period,), at, ""
    )
    accepted(runtime, default, at)


def install_defaults(state: SiteState, at: datetime = T0) -> SiteState:
    """Every charger of the site holds its default profiles."""
    for runtime in state.connectors.values():
        install_default(runtime, at)
    return state


def charging(limit_a: float, sent_ago_s: float = 0.0, now: datetime = T0) -> ConnectorRuntime:
    """A connector with a session whose last profile of `limit_a` went out `sent_ago_s` ago."""
    runtime = ConnectorRuntime(connector("cp"), fallback_a=6.0)
    install_default(runtime, now - timedelta(hours=1))
    return set_charging(runtime, limit_a, sent_ago_s, now)


def set_charging(
    runtime: ConnectorRuntime, limit_a: float, sent_ago_s: float = 0.0, now: datetime = T0
) -> ConnectorRuntime:
    """`runtime` with a session whose profile of `limit_a`, sent `sent_ago_s` ago, the
    charger accepted."""
    config = runtime.config
    runtime.session = Session("tx1", now - timedelta(hours=1))
    at = now - timedelta(seconds=sent_ago_s)
    period = LimitPeriod(0, limit_a)
    command = SetLimit(
        config.charger_id,
        config.connector_id,
        ProfilePurpose.TX,
        (period,),
        at,
        "test",
        None,
        "tx1",
    )
    runtime.sent = Sent(limit_a, at, "tx1", command)
    accepted(runtime, command, at)
    runtime.paused_at = at if limit_a == 0 else None
    return runtime
