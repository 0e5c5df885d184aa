"""The demo's live terminal view: every connector's allowance and draw, and the site
against its limit — rendered from the same `StatusSnapshot` the status page shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from adapters.http.snapshot import StatusSnapshot

_STATE_STYLE = {"charging": "green", "paused": "yellow", "idle": "dim"}
_PHASE_HEADER = "   L1    L2    L3"
_NEAR_LIMIT = 0.9
"""Share of the limit above which a phase is shown as close to it."""


def phases_text(values: Sequence[float | None]) -> str:
    """Three per-phase currents as fixed-width columns; `-` where unknown."""
    return " ".join("    -" if v is None else f"{v:5.1f}" for v in values)


def site_line(snapshot: StatusSnapshot, world_time: datetime | None = None) -> Text:
    """One line: each phase's current against its limit, the mode, the meter age."""
    site = snapshot.site
    line = Text(f"{site.name}  ", style="bold")
    for name, current, limit in zip(("L1", "L2", "L3"), site.current_a, site.limit_a, strict=True):
        if current is None:
            style, shown = "red", "   ?"
        else:
            style = "red" if current > limit else "yellow" if current > _NEAR_LIMIT * limit else ""
            shown = f"{current:5.1f}"
        line.append(f"{name} ")
        line.append(shown, style=style)
        line.append(f"/{limit:g} A  ")
    mode_style = "green" if site.mode == "normal" else "bold red"
    line.append("mode ")
    line.append(site.mode, style=mode_style)
    age = "no reading" if site.meter_age_s is None else f"{site.meter_age_s:.1f} s"
    line.append(f"  meter {age}")
    if world_time is not None:
        line.append(f"  site time {world_time:%H:%M}", style="dim")
    return line


def summary_line(snapshot: StatusSnapshot) -> str:
    """Counts of connectors by the controller's state, and the last solve's bottleneck."""
    counts: dict[str, int] = {}
    for connector in snapshot.connectors:
        counts[connector.state] = counts.get(connector.state, 0) + 1
    states = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    connected = sum(1 for c in snapshot.chargers if c.connected)
    text = f"{connected}/{len(snapshot.chargers)} chargers connected; {states or 'no connectors'}"
    allocation = snapshot.allocation
    if allocation is not None:
        binding = ", ".join(allocation.binding) or "none"
        text += f"; solve {allocation.status} in {allocation.solve_ms:.0f} ms, at limit: {binding}"
    return text


def status_view(snapshot: StatusSnapshot, world_time: datetime | None = None) -> RenderableType:
    """The site line, a row per connector, and the summary."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("connector", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column(f"allowed A\n{_PHASE_HEADER}", justify="right", no_wrap=True)
    table.add_column(f"drawn A\n{_PHASE_HEADER}", justify="right", no_wrap=True)
    # The only column that may shrink, and each reason stays on one line: a narrow
    # terminal cuts reasons short rather than squeezing the numbers.
    table.add_column("reason")
    for c in snapshot.connectors:
        table.add_row(
            c.key,
            c.status or "-",
            Text(c.state, style=_STATE_STYLE.get(c.state, "")),
            phases_text(c.allowed_a),
            phases_text(c.drawn_a),
            Text(c.reason or "", no_wrap=True, overflow="ellipsis"),
        )
    return Group(site_line(snapshot, world_time), table, Text(summary_line(snapshot), style="dim"))
