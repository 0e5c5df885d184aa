"""PNG plots of a replay that a person opens: the site load stacked by connector against
the limit, the phase and circuit currents against theirs, and delivered versus requested
energy per session; for a comparison, the strategies side by side.

Each plot is built as a matplotlib `Figure` (what the tests look at) and saved by its
`plot_*` function. Legends sit beside the axes, never over the data, and the axes reach
`HEADROOM` above the highest of the data and the limits, so a load at its limit stays
clear of the frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure

from ems.replay.engine import ev_phases
from ems.replay.kpis import Kpis
from ems.replay.result import ReplayResult
from ems.replay.scenario import Scenario
from ems.replay.timeline import FloatArray
from optimizer.problem import Circuit

Times = npt.NDArray[np.object_]
"""Aware datetimes, one per step: matplotlib draws them on a date axis."""

_DPI = 110
TOP_CONNECTORS = 10
"""The stack shows the connectors that delivered the most energy, this many, and the
rest as one band: hundreds of bands of their own are unreadable."""
HEADROOM = 1.1
"""Axes reach this far above the highest line or band they draw."""
_BESIDE: dict[str, Any] = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), "borderaxespad": 0}
"""Legend placement to the right of the axes."""
_BASE_COLOUR = "#9e9e9e"
_OTHERS_COLOUR = "#d0d0d0"
OVER_LIMIT_COLOUR = "#d6336c"
_PHASE_COLOURS = ("#1f77b4", "#2ca02c", "#d62728")
_SERIES_COLOURS = tuple(
    c
    for i, c in enumerate(matplotlib.color_sequences["tab10"])
    if i != 7  # grey: base load's
)


def plot_site_load(result: ReplayResult, scenario: Scenario, path: Path) -> None:
    _save(site_load_figure(result, scenario), path)


def site_load_figure(result: ReplayResult, scenario: Scenario) -> Figure:
    """Top: site power stacked (base load, the top connectors, the rest) against the limit
    as power. Middle: per-phase site current against the per-phase limit, which is what
    binds. Bottom, when the site has circuits: each circuit's highest phase current
    against its limit. `scenario` is the one replayed (it tells the circuits and which
    phases each EV used)."""
    circuits = scenario.site.circuits
    ratios = [3, 2, 2] if circuits else [3, 2]
    figure, axes = plt.subplots(
        len(ratios),
        1,
        figsize=(12, 1.25 + 1.25 * sum(ratios)),
        sharex=True,
        height_ratios=ratios,
        layout="constrained",
    )
    times: Times = np.array([result.timeline.at(k) for k in range(result.timeline.steps)])
    _stack_panel(axes[0], result, times)
    _phase_panel(axes[1], result, times)
    if circuits:
        _circuit_panel(axes[2], circuits, circuit_currents_a(result, scenario), times)
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%d %H:%M"))  # type: ignore[no-untyped-call]
    axes[-1].tick_params(axis="x", labelrotation=30)
    return figure


def connector_bands(result: ReplayResult) -> list[tuple[str, FloatArray]]:
    """The connectors that delivered the most energy, most first, each with its power (kW)
    per step; past `TOP_CONNECTORS` the rest summed as one band, `others (<n> connectors)`.
    Connectors that delivered nothing are left out."""
    power_kw = result.connector_power_w / 1000.0
    energy = power_kw.sum(axis=0)
    used = [int(i) for i in np.argsort(-energy, kind="stable") if energy[i] > 0]
    bands = [(result.connectors[i], power_kw[:, i]) for i in used[:TOP_CONNECTORS]]
    rest = used[TOP_CONNECTORS:]
    if rest:
        bands.append((f"others ({len(rest)} connectors)", power_kw[:, rest].sum(axis=1)))
    return bands


def circuit_currents_a(result: ReplayResult, scenario: Scenario) -> dict[str, FloatArray]:
    """Each circuit's current per step and site phase (steps × 3): what the connectors
    under it, through its sub-circuits too, drew on the phases their EVs used."""
    timeline = result.timeline
    currents = {c.id: np.zeros((timeline.steps, 3)) for c in scenario.site.circuits}
    parents = {c.id: c.parent for c in scenario.site.circuits}
    column = {key: i for i, key in enumerate(result.connectors)}
    connectors = scenario.connectors_by_key()
    for session in scenario.sessions:
        connector = connectors[session.connector]
        # plugged in from the step it arrives in until the first step past its departure
        first = max(0, timeline.step_of(session.arrival))
        end = min(timeline.steps, timeline.step_of(session.departure))
        drawn_a = result.connector_current_a[first:end, column[session.connector], None]
        phases = list(ev_phases(connector, session))
        for circuit in _upstream(connector.circuit, parents):
            currents[circuit][first:end, phases] += drawn_a
    return currents


def _upstream(circuit: str | None, parents: Mapping[str, str | None]) -> Iterator[str]:
    """The circuit and every circuit it hangs on."""
    while circuit is not None:
        yield circuit
        circuit = parents[circuit]


def _stack_panel(ax: Axes, result: ReplayResult, times: Times) -> None:
    timeline, voltage_v = result.timeline, result.voltage_v
    base_kw = timeline.base_load_a.sum(axis=1) * voltage_v / 1000.0
    bands = connector_bands(result)
    colours = [_SERIES_COLOURS[i % len(_SERIES_COLOURS)] for i in range(len(bands))]
    if len(bands) > TOP_CONNECTORS:
        colours[-1] = _OTHERS_COLOUR
    ax.stackplot(
        times,
        base_kw,
        *(values for _, values in bands),
        colors=[_BASE_COLOUR, *colours],
        labels=["base load", *(label for label, _ in bands)],
        step="post",
        linewidth=0,
    )
    limit_kw = timeline.phase_limit_a * 3 * voltage_v / 1000.0
    ax.step(times, limit_kw, where="post", color="black", linewidth=1.5, label="limit (3 × A × V)")
    if np.isfinite(timeline.power_limit_w).any():
        cap_kw = timeline.power_limit_w / 1000.0
        ax.step(times, cap_kw, where="post", color="red", label="power cap")
    _with_headroom(ax)
    ax.set_ylabel("site power (kW)")
    ax.set_title(f"{result.scenario} — {result.strategy}: site load by connector")
    ax.legend(fontsize=7, **_BESIDE)


def _phase_panel(ax: Axes, result: ReplayResult, times: Times) -> None:
    for phase, colour in enumerate(_PHASE_COLOURS):
        current_a = result.site_current_a[:, phase]
        ax.step(times, current_a, where="post", color=colour, label=f"L{phase + 1}")
    ax.step(times, result.timeline.phase_limit_a, where="post", color="black", label="limit")
    _with_headroom(ax)
    ax.set_ylabel("site current per phase (A)")
    ax.legend(fontsize=8, **_BESIDE)


def _circuit_panel(
    ax: Axes,
    circuits: Sequence[Circuit],
    currents_a: Mapping[str, FloatArray],
    times: Times,
) -> None:
    """Each circuit's highest phase, which is the one its limit binds first."""
    for n, circuit in enumerate(circuits):
        colour = _SERIES_COLOURS[n % len(_SERIES_COLOURS)]
        highest_a = currents_a[circuit.id].max(axis=1)
        ax.step(times, highest_a, where="post", color=colour, label=circuit.id)
        ax.axhline(
            circuit.limit_a, color=colour, linestyle="--", linewidth=1, label=f"{circuit.id} limit"
        )
    _with_headroom(ax)
    ax.set_ylabel("circuit current, highest phase (A)")
    ax.legend(fontsize=8, **_BESIDE)


def _with_headroom(ax: Axes) -> None:
    """Reach `HEADROOM` above the highest line or band drawn, and down to 0 or below."""
    low, high = ax.dataLim.y0, ax.dataLim.y1
    ax.set_ylim(min(0.0, HEADROOM * low), HEADROOM * max(high, 0.0) or 1.0)


def plot_sessions(result: ReplayResult, path: Path) -> None:
    """Requested and delivered energy per session, in order of arrival."""
    sessions = result.sessions
    positions = np.arange(len(sessions))
    requested = [s.requested_wh / 1000.0 for s in sessions]
    delivered = [s.delivered_wh / 1000.0 for s in sessions]
    served = sum(s.fully_served for s in sessions)
    figure, axes = plt.subplots(figsize=(max(8.0, min(24.0, 0.12 * len(sessions) + 4)), 4.5))
    axes.bar(positions, requested, color="#c6dbef", label="requested", width=0.9)
    axes.bar(positions, delivered, color="#2171b5", label="delivered", width=0.6)
    axes.set_xlabel("session (in order of arrival)")
    axes.set_ylabel("energy (kWh)")
    axes.set_title(
        f"{result.scenario} — {result.strategy}: {served} of {len(sessions)} sessions fully served"
    )
    if len(sessions) <= 40:
        axes.set_xticks(positions, [s.session_id for s in sessions], rotation=90, fontsize=7)
    axes.legend()
    figure.tight_layout()
    _save(figure, path)


def plot_comparison(kpis: Mapping[str, Kpis], phase_limit_a: float, path: Path) -> None:
    _save(comparison_figure(kpis, phase_limit_a), path)


def comparison_figure(kpis: Mapping[str, Kpis], phase_limit_a: float) -> Figure:
    """Delivered energy, sessions fully served and peak phase current per strategy; the
    peaks against the site's per-phase limit `phase_limit_a` (the main fuse replayed),
    those above it in red."""
    names: Sequence[str] = list(kpis)
    panels: tuple[tuple[str, list[float]], ...] = (
        ("energy delivered (%)", [k.energy_delivered_pct for k in kpis.values()]),
        ("sessions fully served", [float(k.sessions_fully_served) for k in kpis.values()]),
        ("peak phase current (A)", [k.peak_phase_current_a for k in kpis.values()]),
    )
    figure, axes = plt.subplots(1, 3, figsize=(13, 4.5), layout="constrained")
    bars = [
        _bar_panel(ax, title, names, values)
        for ax, (title, values) in zip(axes, panels, strict=True)
    ]
    _against_limit(axes[2], bars[2], phase_limit_a)
    for ax in axes:
        _with_headroom(ax)
    return figure


def _bar_panel(ax: Axes, title: str, names: Sequence[str], values: Sequence[float]) -> BarContainer:
    bars = ax.bar(names, values, color="#4292c6")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    for x, value in enumerate(values):
        ax.annotate(f"{value:g}", (x, value), ha="center", va="bottom", fontsize=8)
    return bars


def _against_limit(ax: Axes, bars: BarContainer, limit_a: float) -> None:
    for bar in bars:
        if bar.get_height() > limit_a:
            bar.set_facecolor(OVER_LIMIT_COLOUR)
    ax.axhline(
        limit_a, color="black", linestyle="--", linewidth=1.2, label=f"site limit {limit_a:g} A"
    )
    ax.legend(fontsize=8, **_BESIDE)


def plot_sweep(kpis: Mapping[tuple[float, str], Kpis], path: Path) -> None:
    """Per strategy against the main fuse size: energy delivered, sessions fully served,
    and the peak site power."""
    names = list(dict.fromkeys(name for _, name in kpis))
    limits = sorted({limit for limit, _ in kpis})
    panels: tuple[tuple[str, Callable[[Kpis], float]], ...] = (
        ("energy delivered (%)", lambda k: k.energy_delivered_pct),
        (
            "sessions fully served (%)",
            lambda k: 100.0 * k.sessions_fully_served / max(1, k.sessions_total),
        ),
        ("peak site power (kW)", lambda k: k.peak_site_power_kw),
    )
    figure, axes = plt.subplots(1, 3, figsize=(14, 4))
    for ax, (title, value) in zip(axes, panels, strict=True):
        for name in names:
            ax.plot(
                limits, [value(kpis[(limit, name)]) for limit in limits], marker="o", label=name
            )
        ax.set_title(title)
        ax.set_xlabel("main fuse (A per phase)")
        ax.grid(alpha=0.3)
    axes[0].legend()
    figure.tight_layout()
    _save(figure, path)


def _save(figure: Figure, path: Path) -> None:
    figure.savefig(path, dpi=_DPI)
    plt.close(figure)
