"""Building a connector runtime in a given situation, for the rule tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from ems.commands import LimitPeriod, ProfilePurpose, SetLimit
from ems.state import ConnectorRuntime, Sent, Session
from tests.ems.fakes import T0, connector


def charging(limit_a: float, sent_ago_s: float = 0.0, now: datetime = T0) -> ConnectorRuntime:
    """A connector with a session whose last profile of `limit_a` went out `sent_ago_s` ago."""
    runtime = ConnectorRuntime(connector("cp"), fallback_a=6.0)
    runtime.session = Session("tx1", now - timedelta(hours=1))
    at = now - timedelta(seconds=sent_ago_s)
    command = SetLimit("cp", 1, ProfilePurpose.TX, (LimitPeriod(0, limit_a),), at, "test")
    runtime.sent = Sent(limit_a, at, "tx1", command)
    if limit_a == 0:
        runtime.paused_at = at
    return runtime
