"""The grid operator's import cap schedule (a DSO curtailment schedule) named by `[site]`:

```toml
[site]
grid_caps_file = "dso-caps.csv"   # relative to the config (or the scenario's site.toml)
```

```csv
timestamp,limit_a,power_limit_kw
2026-03-02T17:00:00+01:00,25,
2026-03-02T19:00:00+01:00,,11
2026-03-02T21:00:00+01:00,,
```

From each timestamp on the site imports at most `limit_a` per phase and `power_limit_kw` in
total; an empty cell caps nothing of that kind, so the last line ends the curtailment.
Either column may be left out of the header, not both. A cap above the site's own limit is
refused (a kW/A mix-up, most likely). `ems run` reads the file again when it changes
(`adapters.runtime.grid_cap_feed`); a replay folds it into the scenario's limits. Every
problem names the file, the line and the column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.files.csv_rows import CsvRow, timed_rows
from adapters.files.errors import InputFileError
from adapters.files.site_config import FieldReader
from ems.grid_cap import GridCap, cap_at, step_at
from ems.replay.scenario import LimitPoint
from optimizer.problem import SiteLimits

GRID_CAPS_KEY = "grid_caps_file"
_CAP_COLUMNS = ("limit_a", "power_limit_kw")


def grid_caps_path(reader: FieldReader, site: Mapping[str, Any]) -> Path | None:
    """The file `[site] grid_caps_file` names (relative to the config's folder), None for
    none; one that does not exist is an error naming the key."""
    name = reader.optional_string(site, GRID_CAPS_KEY, "site")
    if name is None:
        return None
    path = Path(reader.path).parent / name
    if not path.is_file():
        raise reader.error(f"site.{GRID_CAPS_KEY}", f"no such file: {path}")
    return path


def load_grid_caps(path: Path, configured: SiteLimits) -> tuple[GridCap, ...]:
    """The schedule in `path`, in time order, checked against the site's own limit."""
    caps: list[GridCap] = []
    rows = timed_rows(path, ("timestamp",), _CAP_COLUMNS)
    for at, row in rows:
        if not any(column in row.cells for column in _CAP_COLUMNS):
            raise InputFileError(
                path, "missing column: give limit_a, power_limit_kw or both", 1, column="limit_a"
            )
        caps.append(_cap(at, row, configured))
    if not caps:
        raise InputFileError(path, "holds no caps: expected a line after the header", 1)
    return tuple(caps)


def _cap(at: datetime, row: CsvRow, configured: SiteLimits) -> GridCap:
    phase_a = power_w = None
    if row.has("limit_a"):
        phase_a = row.number("limit_a")
        if phase_a > configured.phase_limit_a:
            raise row.error(
                "limit_a",
                f"{phase_a:g} A is above the site's limit_a = {configured.phase_limit_a:g}"
                " (the main fuse): is it in kW?",
            )
    if row.has("power_limit_kw"):
        power_w = row.number("power_limit_kw") * 1000.0
        cap_w = configured.power_limit_w
        if cap_w is not None and power_w > cap_w:
            raise row.error(
                "power_limit_kw",
                f"{power_w / 1000.0:g} kW is above the site's power_limit_kw = {cap_w / 1000.0:g}",
            )
    return GridCap(at, phase_a, power_w)


def with_grid_caps(
    limits: Sequence[LimitPoint],
    caps: Sequence[GridCap],
    configured: SiteLimits,
    until: datetime,
) -> tuple[LimitPoint, ...]:
    """A scenario's limit series with the caps folded in: at every moment the lower of
    the two (caps starting after `until`, the scenario's end, are left out so that they
    do not stretch the replay)."""
    if not caps:
        return tuple(limits)
    moments = sorted({p.at for p in limits} | {c.start for c in caps if c.start <= until})
    points: list[LimitPoint] = []
    for at in moments:
        given = step_at(limits, at, lambda point: point.at)
        phase_a = configured.phase_limit_a if given is None else given.phase_limit_a
        power_w = None if given is None else given.power_limit_w
        cap = cap_at(caps, at)
        if cap is not None:
            phase_a = min(phase_a, math.inf if cap.phase_limit_a is None else cap.phase_limit_a)
            if cap.power_limit_w is not None:
                power_w = cap.power_limit_w if power_w is None else min(power_w, cap.power_limit_w)
        if not points or (points[-1].phase_limit_a, points[-1].power_limit_w) != (phase_a, power_w):
            points.append(LimitPoint(at, phase_a, power_w))
    return tuple(points)
