"""The last minutes of site load, so the page shows a trend the moment it is opened."""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from adapters.http.snapshot import MeasuredPhaseCurrents, PhaseCurrents, StatusSnapshot
from adapters.http.source import StatusSource

log = logging.getLogger(__name__)

DEFAULT_SPAN_S = 300.0
DEFAULT_INTERVAL_S = 5.0


@dataclass(frozen=True)
class LoadSample:
    at: datetime
    current_a: MeasuredPhaseCurrents
    limit_a: PhaseCurrents


class LoadHistory:
    """A ring of site-load samples covering `span_s` at one per `interval_s`."""

    def __init__(
        self, span_s: float = DEFAULT_SPAN_S, interval_s: float = DEFAULT_INTERVAL_S
    ) -> None:
        self.interval_s = interval_s
        self._samples: deque[LoadSample] = deque(maxlen=math.ceil(span_s / interval_s) + 1)

    def record(self, snapshot: StatusSnapshot) -> None:
        """Keep the snapshot's site load, unless it is no newer than the last sample."""
        if self._samples and snapshot.at <= self._samples[-1].at:
            return
        site = snapshot.site
        self._samples.append(LoadSample(snapshot.at, site.current_a, site.limit_a))

    def samples(self) -> tuple[LoadSample, ...]:
        return tuple(self._samples)


async def sample_forever(source: StatusSource, history: LoadHistory) -> None:
    """Record a sample every `history.interval_s` until cancelled. A failing snapshot is
    logged and skipped: a gap in the chart, not a dead sampler."""
    while True:
        try:
            history.record(source.snapshot())
        except Exception:
            log.exception("status snapshot failed; load history sample skipped")
        await asyncio.sleep(history.interval_s)
