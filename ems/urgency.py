"""Priority weights from laxity: the current a session needs to finish by its departure.

The optimizer shares capacity max-min fairly by each connector's priority weight, and
when the minimums do not all fit it admits the heaviest first. Weighing each session by
the current it needs to deliver its remaining energy by its departure,
`need / (time left × voltage × phases)`, capped at its maximum, makes EVs progress toward
their needs at a similar pace, and one that would leave unserved is neither starved nor
paused in favour of one with hours to spare.

The weight is multiplied by the square root of the EV's phase count: per ampere a 3-phase
EV takes three times the power of a 1-phase one, which counts fully where one phase is
the bottleneck and not at all where the phases are loaded evenly. Weighing by current
alone (factor 1) or by power (factor = phases) each lost energy on one kind of site in
the shipped scenarios.

The weight grows with the square of the fraction of its maximum a session needs
(`max × f²`, f = needed / maximum): a session with slack yields clearly to one that is
tight, not merely in proportion. A session that cannot finish even at its maximum is
triaged: its f becomes maximum / needed, so the further out of reach its need, the less
it outranks sessions that can still be served in full.

A session that has not stated both its need and its departure is taken to need its
maximum: it is never starved by sessions that did.
"""

from __future__ import annotations

import math
from datetime import datetime

MIN_SHARE = 0.05
"""Floor of the fraction f, so that no session's weight is zero and none is starved."""


def urgency_weight(
    need_wh: float | None,
    departure: datetime | None,
    max_a: float,
    phases: int,
    now: datetime,
    voltage_v: float,
    min_left_s: float,
) -> float:
    """The weight of a session that may draw up to `max_a` on `phases` phases; time left
    is counted as at least `min_left_s` (a departure due or past is as urgent as can be).
    """
    if max_a <= 0:
        return 1.0
    if need_wh is None or departure is None:
        needed_a = max_a
    else:
        left_s = max(min_left_s, (departure - now).total_seconds())
        needed_a = need_wh * 3600.0 / (left_s * voltage_v * phases)
    fraction = needed_a / max_a if needed_a <= max_a else max_a / needed_a
    fraction = max(fraction, MIN_SHARE)
    return max_a * fraction * fraction * math.sqrt(phases)
