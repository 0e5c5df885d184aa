"""What the site imports besides our chargers, off a site meter reading: read by the
planner now, and kept in the site's load history for later."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from ems.events import MeterReading
    from ems.state import SiteState
    from optimizer.problem import PowerPeriod


def import_besides_ours(state: SiteState, reading: MeterReading) -> float | None:
    """The site reading's total power (W, negative while PV exports) less what our
    chargers behind the meter drew as of it; None when it has no total. Each charger's
    draw is the sample that was current when the meter read, not a later one."""
    if reading.total_power_w is None:
        return None
    return reading.total_power_w - ours_w(state, reading.at)


def ours_w(state: SiteState, moment: datetime) -> float:
    """What our chargers behind the site meter drew as of `moment` (W): each one's sample
    that was current then."""
    voltage_v = state.site.limits.voltage_v
    drawn_w = 0.0
    for connector in state.connectors.values():
        # the sample first: most connectors of a quiet site have none, and neither it nor
        # their charger need be looked up (this runs several times a step)
        if connector.drawn is None:
            continue
        draw = connector.draw_as_of(moment)
        if draw is not None and state.charger_of(connector).config.behind_meter:
            drawn_w += sum(draw.current_a) * voltage_v
    return drawn_w


def load_forecast(state: SiteState, now: datetime, until: datetime) -> tuple[PowerPeriod, ...]:
    """The building's load the money plan moves the present import along: the site's
    forecast where it gives one (a replay's), else the one learned from its history."""
    return state.site.base_forecast or state.load_history.forecast(now, until)


def observe_load(state: SiteState, reading: MeterReading) -> None:
    """Count a good site reading's import besides our chargers into the site's load
    history, trusted or not: it only forecasts money (`ems.load_history`)."""
    import_w = import_besides_ours(state, reading)
    if import_w is not None:
        state.load_history.observe(reading.at, import_w)
