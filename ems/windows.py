"""Clock-aligned windows: a window of `window_s` seconds is numbered floor(epoch s /
`window_s`), so quarter hours start at :00, :15, … as meters and tariffs count them."""

from __future__ import annotations

import math
from collections.abc import Iterator


def window_of(epoch_s: float, window_s: float) -> int:
    """The window `epoch_s` falls in."""
    return math.floor(epoch_s / window_s)


def window_parts(since_s: float, until_s: float, window_s: float) -> Iterator[tuple[int, float]]:
    """The windows the span from `since_s` to `until_s` (epoch seconds) covers, in order,
    each with the seconds of the span inside it."""
    start_s = since_s
    while start_s < until_s:
        window = window_of(start_s, window_s)
        part_s = min(until_s, (window + 1) * window_s) - start_s
        yield window, part_s
        start_s += part_s
