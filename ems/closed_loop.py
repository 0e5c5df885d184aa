"""Comparing what each connector draws with what it is allowed.

Taper: a session drawing clearly less than allowed (battery tail, the EV's own limit) for
`taper_detect_s` gets its bound lowered to its draw + `taper_margin_a` (never below its
minimum), so the rest goes to others; every `probe_interval_s` the bound is lifted to see
whether it wants more again. A session once bounded stays marked `tapering` through the
probes: the look-ahead plans its battery's tail in the present step too
(`optimizer.lookahead`). Non-compliance: a charger drawing more than allowed +
`noncompliance_tolerance_a` for `noncompliance_after_s` is flagged and from then on counted
at its maximum, since "Accepted" is not "enforced".
"""

from __future__ import annotations

from datetime import datetime

from ems.site import ControlSettings
from ems.state import ConnectorRuntime, Draw, Taper
from optimizer.problem import PhaseTriple


def observe_draw(
    connector: ConnectorRuntime,
    drawn_a: PhaseTriple,
    at: datetime,
    settings: ControlSettings,
    bound_a: float,
) -> bool:
    """Record a measured draw (site phases). True when it newly flags non-compliance:
    drawing above `bound_a`, what its profiles let it draw as far as the charger confirmed
    them (a lowering not yet accepted or followed does not count against it)."""
    connector.record_draw(Draw(drawn_a, at))
    _observe_ev_phases(connector, drawn_a, settings)
    if connector.sent_for_session() is None or connector.uncontrolled_reason is not None:
        return False
    peak_a = max(drawn_a)
    _observe_taper(connector, peak_a, at, settings)
    return _observe_compliance(connector, peak_a, at, settings, bound_a)


def probe(connector: ConnectorRuntime, now: datetime, settings: ControlSettings) -> bool:
    """Lift a taper bound that has held for `probe_interval_s`; True when lifted."""
    since = connector.taper.bound_since
    if since is None or (now - since).total_seconds() < settings.probe_interval_s:
        return False
    connector.taper = Taper()
    return True


def _observe_ev_phases(
    connector: ConnectorRuntime, drawn_a: PhaseTriple, settings: ControlSettings
) -> None:
    """Learn which site phases the EV uses (a 1-phase EV on a 3-phase connector)."""
    if connector.session is None:
        return
    # a list made into a tuple, not a generator: this runs for every sample
    used = tuple([p for p in connector.config.phases if drawn_a[p] >= settings.ev_phase_detect_a])
    if used:
        connector.session.ev_phases = used


def _observe_taper(
    connector: ConnectorRuntime, drawn_a: float, at: datetime, settings: ControlSettings
) -> None:
    sent = connector.sent_for_session()
    assert sent is not None
    taper = connector.taper
    margin = settings.taper_margin_a
    if sent.limit_a <= 0 or drawn_a >= sent.limit_a - margin:
        taper.under_since = None
        if taper.bound_a is not None and drawn_a >= taper.bound_a - margin / 2:
            connector.taper = Taper()
        return
    if taper.under_since is None:
        taper.under_since = at
    if (at - taper.under_since).total_seconds() < settings.taper_detect_s:
        return
    floor = connector.config.min_current_a
    if connector.session is not None and connector.session.ev_min_a is not None:
        floor = max(floor, connector.session.ev_min_a)
    bound = max(drawn_a + margin, floor)
    if connector.session is not None:
        connector.session.tapering = True
    if taper.bound_a is None or bound < taper.bound_a:
        taper.bound_a = bound
        taper.bound_since = at


def _observe_compliance(
    connector: ConnectorRuntime,
    drawn_a: float,
    at: datetime,
    settings: ControlSettings,
    bound_a: float,
) -> bool:
    compliance = connector.compliance
    if drawn_a <= bound_a + settings.noncompliance_tolerance_a:
        compliance.over_since = None
        return False
    if compliance.over_since is None:
        compliance.over_since = at
    held_s = (at - compliance.over_since).total_seconds()
    if compliance.flagged or held_s < settings.noncompliance_after_s:
        return False
    compliance.flagged = True
    compliance.times_flagged += 1
    return True
