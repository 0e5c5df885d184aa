"""Load profiles: per-phase current over time, from CSV, for the simulator and the
virtual meter.

Format (lines starting with `#` are comments):

    seconds,l1_a,l2_a,l3_a          or   timestamp,l1_kw,l2_kw,l3_kw
    0,8.0,7.5,9.0                        2025-03-03T00:00:00+00:00,1.8,1.7,2.1

The time column is `seconds` (from the profile's start) or `timestamp` (ISO 8601 with
an offset). Values are amperes (`l1_a`…) or kilowatts (`l1_kw`…, turned into amperes at
the nominal voltage), import positive, export negative. Each row holds until the next;
the last row holds as long as the step before it, then the profile repeats.
"""

from __future__ import annotations

import bisect
import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from adapters.files.errors import InputFileError

Phases = tuple[float, float, float]

PACKAGED_PROFILE = Path(__file__).parent / "profiles" / "office_day.csv"


@dataclass(frozen=True)
class LoadProfile:
    offsets_s: tuple[float, ...]
    current_a: tuple[Phases, ...]
    duration_s: float
    start: datetime | None = None
    """The first row's time when the file had timestamps."""

    @classmethod
    def constant(cls, current_a: Phases) -> LoadProfile:
        return cls(offsets_s=(0.0,), current_a=(current_a,), duration_s=1.0)

    def current_at(self, offset_s: float) -> Phases:
        """Per-phase current `offset_s` seconds into the (repeating) profile."""
        position = offset_s % self.duration_s
        return self.current_a[bisect.bisect_right(self.offsets_s, position) - 1]

    def import_energy_wh(self, offset_s: float, voltage_v: float) -> float:
        """Energy imported from the start to `offset_s` at `voltage_v` per phase: only
        a positive total (net import) counts, as on a meter's import register."""
        laps, position = divmod(max(offset_s, 0.0), self.duration_s)
        bounds = (*self.offsets_s, self.duration_s)
        lap_wh = 0.0
        partial_wh = 0.0
        for index, phases in enumerate(self.current_a):
            power_w = max(sum(phases) * voltage_v, 0.0)
            step_s = bounds[index + 1] - bounds[index]
            lap_wh += power_w * step_s / 3600
            covered_s = min(max(position - bounds[index], 0.0), step_s)
            partial_wh += power_w * covered_s / 3600
        return laps * lap_wh + partial_wh


def load_profile(path: Path | str, voltage_v: float = 230.0) -> LoadProfile:
    """Read a profile CSV. Raises InputFileError naming the file, line and column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputFileError(path, f"cannot read: {error.strerror}") from error
    return parse_profile(text, path, voltage_v)


def parse_profile(text: str, path: Path | str, voltage_v: float = 230.0) -> LoadProfile:
    lines = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise InputFileError(path, "no header and no rows")
    header_line, header = lines[0]
    columns = [c.strip() for c in next(csv.reader([header]))]
    time_column = next((c for c in ("seconds", "timestamp") if c in columns), None)
    if time_column is None:
        raise InputFileError(path, "needs a `seconds` or `timestamp` column", line=header_line)
    unit = next((u for u in ("a", "kw") if all(f"l{p}_{u}" in columns for p in (1, 2, 3))), None)
    if unit is None:
        raise InputFileError(
            path, "needs l1_a,l2_a,l3_a or l1_kw,l2_kw,l3_kw columns", line=header_line
        )
    to_amperes = 1.0 if unit == "a" else 1000.0 / voltage_v
    times: list[float] = []
    start: datetime | None = None
    rows: list[Phases] = []
    for number, line in lines[1:]:
        cells = dict(zip(columns, next(csv.reader(io.StringIO(line))), strict=False))
        if time_column == "seconds":
            moment = _number(cells, "seconds", path, number)
        else:
            try:
                stamp = datetime.fromisoformat(cells.get("timestamp", "").strip())
            except ValueError:
                raise InputFileError(
                    path, "not an ISO 8601 time", line=number, column="timestamp"
                ) from None
            if stamp.tzinfo is None:
                raise InputFileError(
                    path, "needs a UTC offset (e.g. +00:00)", line=number, column="timestamp"
                )
            start = start or stamp
            moment = (stamp - start).total_seconds()
        if times and moment <= times[-1]:
            raise InputFileError(path, "times must increase", line=number, column=time_column)
        times.append(moment)
        rows.append(
            (
                _number(cells, f"l1_{unit}", path, number) * to_amperes,
                _number(cells, f"l2_{unit}", path, number) * to_amperes,
                _number(cells, f"l3_{unit}", path, number) * to_amperes,
            )
        )
    if not rows:
        raise InputFileError(path, "no rows", line=header_line)
    if times[0] != 0.0:
        raise InputFileError(path, "the first row must be at 0 s", line=lines[1][0])
    last_step = times[-1] - times[-2] if len(times) > 1 else 1.0
    return LoadProfile(
        offsets_s=tuple(times),
        current_a=tuple(rows),
        duration_s=times[-1] + last_step,
        start=start,
    )


def _number(cells: dict[str, str], column: str, path: Path | str, line: int) -> float:
    try:
        value = float(cells[column])
    except (KeyError, ValueError):
        raise InputFileError(
            path, f"not a number: {cells.get(column)!r}", line=line, column=column
        ) from None
    if not math.isfinite(value):
        raise InputFileError(path, "must be finite", line=line, column=column)
    return value
