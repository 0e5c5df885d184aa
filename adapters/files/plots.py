"""PNG plots of a replay that a person opens: the site load stacked by connector against
the limit, and delivered versus requested energy per session; for a comparison, the
strategies side by side."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np

from ems.replay.kpis import Kpis
from ems.replay.result import ReplayResult

_DPI = 110
_LEGEND_MAX = 12
"""Above this many connectors the stack gets no legend (it would cover the plot)."""


def plot_site_load(result: ReplayResult, path: Path) -> None:
    """Top: site power stacked (base load, then each connector) against the limit as
    power. Bottom: per-phase site current against the per-phase limit, which is what binds."""
    timeline = result.timeline
    times = [timeline.at(k) for k in range(timeline.steps)]
    voltage_v = result.voltage_v
    base_kw = timeline.base_load_a.sum(axis=1) * voltage_v / 1000.0
    used = [i for i in range(len(result.connectors)) if result.connector_power_w[:, i].any()]
    stack_kw = result.connector_power_w[:, used].T / 1000.0

    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(12, 7.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    colours = plt.get_cmap("tab20")(np.linspace(0, 1, max(1, len(used))))
    top.stackplot(
        times,
        base_kw,
        *stack_kw,
        colors=["#9e9e9e", *colours],
        labels=["base load", *(result.connectors[i] for i in used)],
        step="post",
        linewidth=0,
    )
    limit_kw = timeline.phase_limit_a * 3 * voltage_v / 1000.0
    top.step(times, limit_kw, where="post", color="black", linewidth=1.5, label="limit (3 × A × V)")
    if np.isfinite(timeline.power_limit_w).any():
        top.step(
            times, timeline.power_limit_w / 1000.0, where="post", color="red", label="power cap"
        )
    top.set_ylabel("site power (kW)")
    top.set_title(f"{result.scenario} — {result.strategy}: site load by connector")
    handles, labels = top.get_legend_handles_labels()
    if len(used) <= _LEGEND_MAX:
        top.legend(handles, labels, loc="upper left", fontsize=7, ncol=2)
    else:
        keep = [i for i, label in enumerate(labels) if label in ("base load", "limit (3 × A × V)")]
        top.legend([handles[i] for i in keep], [labels[i] for i in keep], loc="upper left")

    for phase, colour in zip(range(3), ("#1f77b4", "#2ca02c", "#d62728"), strict=True):
        bottom.step(
            times,
            result.site_current_a[:, phase],
            where="post",
            color=colour,
            label=f"L{phase + 1}",
        )
    bottom.step(times, timeline.phase_limit_a, where="post", color="black", label="limit")
    bottom.set_ylabel("site current per phase (A)")
    bottom.legend(loc="upper left", fontsize=8, ncol=4)
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%d %H:%M"))  # type: ignore[no-untyped-call]
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=_DPI)
    plt.close(figure)


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
    figure.savefig(path, dpi=_DPI)
    plt.close(figure)


def plot_comparison(kpis: Mapping[str, Kpis], path: Path) -> None:
    """Delivered energy, sessions fully served and peak phase current per strategy."""
    names: Sequence[str] = list(kpis)
    panels: tuple[tuple[str, list[float]], ...] = (
        ("energy delivered (%)", [k.energy_delivered_pct for k in kpis.values()]),
        ("sessions fully served", [float(k.sessions_fully_served) for k in kpis.values()]),
        ("peak phase current (A)", [k.peak_phase_current_a for k in kpis.values()]),
    )
    figure, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, (title, values) in zip(axes, panels, strict=True):
        ax.bar(names, values, color="#4292c6")
        ax.set_title(title)
        ax.tick_params(axis="x", rotation=30)
        for x, value in enumerate(values):
            ax.annotate(f"{value:g}", (x, value), ha="center", va="bottom", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=_DPI)
    plt.close(figure)


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
    figure.savefig(path, dpi=_DPI)
    plt.close(figure)
