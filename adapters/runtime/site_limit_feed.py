"""The site limit in force while the controller runs: the configured fuse, the operator's
override and the grid operator's cap schedule, put to the controller as one
`SiteLimitChanged` whenever the lowest of them changes (`ems.site_limit.limit_wanted`).

Every `FOLLOW_S` the feed looks at the time — a cap starting within the lead puts the
lowered limit in force at once — and at the schedule file, read again when its
modification time or size changed. A file that turns unreadable is logged (file, line,
column) and the last good schedule stays in force: a broken download must not lift a cap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from adapters.files.errors import InputFileError
from adapters.files.grid_caps import load_grid_caps
from ems.events import Event, SiteLimitChanged
from ems.grid_cap import GridCap
from ems.site import ControlSettings, SiteConfig
from ems.site_limit import cap_lead_s, limit_wanted

LOG = logging.getLogger(__name__)

Clock = Callable[[], datetime]
FOLLOW_S = 1.0
"""How often the feed looks at the time and the schedule file."""


class SiteLimitFeed:
    def __init__(
        self,
        site: SiteConfig,
        settings: ControlSettings,
        put: Callable[[Event], None],
        caps_path: Path | None = None,
    ) -> None:
        self._configured = site.limits
        self._caps: tuple[GridCap, ...] = site.grid_caps
        self._lead_s = cap_lead_s(settings, FOLLOW_S)
        self._put = put
        self._path = caps_path
        self._seen = _stamp(caps_path) if caps_path is not None else None
        self._sent = (site.limits.phase_limit_a, site.limits.power_limit_w)
        """The limit last put (the controller starts at the configured one)."""
        self.override_a: float | None = None
        """The operator's cap per phase; None for none."""
        self.error: str | None = None
        """Why the schedule file could not be read again; None when it could."""

    @property
    def caps(self) -> tuple[GridCap, ...]:
        """The schedule in force."""
        return self._caps

    def wanted(self, now: datetime) -> SiteLimitChanged:
        return limit_wanted(self._configured, self._caps, self.override_a, now, self._lead_s)

    def set_override(self, limit_a: float | None, now: datetime) -> SiteLimitChanged:
        """Put the operator's override (None: none) in force with the caps; the limit now."""
        self.override_a = limit_a
        wanted = self.wanted(now)
        self._send(wanted, force=True)
        return wanted

    def follow(self, now: datetime) -> None:
        """Put the limit wanted now to the controller if it changed."""
        self._send(self.wanted(now), force=False)

    def reload(self) -> bool:
        """Read the schedule file again if it changed; False when that failed."""
        if self._path is None:
            return True
        stamp = _stamp(self._path)
        if stamp == self._seen:
            return True
        self._seen = stamp
        try:
            self._caps = load_grid_caps(self._path, self._configured)
        except InputFileError as error:
            self.error = str(error)
            LOG.error("grid caps: %s; the schedule read before stays in force", error)
            return False
        self.error = None
        LOG.info("grid caps: read %d steps from %s", len(self._caps), self._path)
        return True

    async def run(self, clock: Clock) -> None:
        """Follow the time and the schedule file until cancelled."""
        while True:
            await asyncio.to_thread(self.reload)
            self.follow(clock())
            await asyncio.sleep(FOLLOW_S)

    def _send(self, wanted: SiteLimitChanged, *, force: bool) -> None:
        limit = (wanted.phase_limit_a, wanted.power_limit_w)
        if limit == self._sent and not force:
            return
        if limit != self._sent:
            power = "" if limit[1] is None else f", {limit[1] / 1000:g} kW in total"
            LOG.warning(
                "site limit %g A per phase%s (%s)",
                limit[0],
                power,
                wanted.reason or "the configured limit",
            )
        self._sent = limit
        self._put(wanted)


def _stamp(path: Path) -> tuple[int, int] | None:
    """The file's modification time and size; None while it is missing."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)
