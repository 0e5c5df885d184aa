"""The replay plots as matplotlib figures: what they draw, where their legends sit and how
far their axes reach, checked on the figure objects rather than on pixels."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from adapters.files.plots import (
    HEADROOM,
    OVER_LIMIT_COLOUR,
    TOP_CONNECTORS,
    circuit_currents_a,
    comparison_figure,
    connector_bands,
    plot_site_load,
    site_load_figure,
)
from ems.replay import ReplayResult, Scenario, SessionSpec, compute_kpis, replay
from ems.replay.synthetic import small
from ems.site import ChargerConfig, ConnectorConfig, SiteConfig
from optimizer.problem import Circuit, Phase, SiteLimits

THREE_PHASES = (Phase.L1, Phase.L2, Phase.L3)


@pytest.fixture
def figures() -> Iterator[list[Figure]]:
    """Figures a test made, closed after it."""
    made: list[Figure] = []
    yield made
    for figure in made:
        plt.close(figure)


def kept(figures: list[Figure], figure: Figure) -> Figure:
    figures.append(figure)
    figure.canvas.draw()  # lays the figure out: legends and axes take their places
    return figure


@pytest.fixture(scope="module")
def congested() -> tuple[Scenario, ReplayResult]:
    """Six connectors, one circuit, uncontrolled: the fuse trips."""
    scenario = small()
    return scenario, replay(scenario, "uncontrolled")


def crowded(connectors: int = 220) -> Scenario:
    """A car park of one-connector chargers, each visited once by an EV that wants more the
    higher its number: cp219 delivers the most energy, cp000 the least."""
    start = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    ids = [f"cp{n:03d}" for n in range(connectors)]
    chargers = tuple(
        ChargerConfig(cid, (ConnectorConfig(cid, 1, THREE_PHASES, 16.0),)) for cid in ids
    )
    site = SiteConfig("car park", SiteLimits(phase_limit_a=4000.0), chargers)
    sessions = tuple(
        SessionSpec(f"s{n}", f"{cid}/1", start, start + timedelta(hours=4), 1000.0 + 50 * n, 11e3)
        for n, cid in enumerate(ids)
    )
    return Scenario("car park", site, sessions)


def all_in_circuits(scenario: Scenario) -> Scenario:
    """Every connector on circuit `row-a` or `row-b`, both under `deck`."""
    site = scenario.site
    chargers = tuple(
        replace(
            charger,
            connectors=tuple(
                replace(c, circuit="row-a" if n % 2 else "row-b") for c in charger.connectors
            ),
        )
        for n, charger in enumerate(site.chargers)
    )
    circuits = (
        Circuit("deck", 60.0),
        Circuit("row-a", 30.0, "deck"),
        Circuit("row-b", 30.0, "deck"),
    )
    return replace(scenario, site=replace(site, chargers=chargers, circuits=circuits))


def without_circuits(scenario: Scenario) -> Scenario:
    site = scenario.site
    chargers = tuple(
        replace(ch, connectors=tuple(replace(c, circuit=None) for c in ch.connectors))
        for ch in site.chargers
    )
    return replace(scenario, site=replace(site, chargers=chargers, circuits=()))


def highest(axes: Axes) -> float:
    """The highest value the axes' lines and stacked bands reach."""
    values = [float(np.nanmax(line.get_ydata())) for line in axes.get_lines()]
    values += [
        float(path.vertices[:, 1].max())
        for band in axes.collections
        if isinstance(band, PolyCollection)
        for path in band.get_paths()
    ]
    return max(values)


def test_the_legends_sit_beside_the_data(
    congested: tuple[Scenario, ReplayResult], figures: list[Figure]
) -> None:
    scenario, result = congested
    figure = kept(figures, site_load_figure(result, scenario))

    for axes in figure.axes:
        legend = axes.get_legend()
        assert legend is not None
        assert not legend.get_window_extent().overlaps(axes.get_window_extent()), axes.get_ylabel()


@pytest.mark.parametrize("strategy", ["uncontrolled", "equal"])
def test_the_axes_reach_above_the_limit_and_the_peak(strategy: str, figures: list[Figure]) -> None:
    """Uncontrolled, the load runs far over the limit; shared equally, it sits on it."""
    scenario = small()
    result = replay(scenario, strategy)
    assert result.site_current_a.max() >= scenario.site.limits.phase_limit_a - 0.1

    figure = kept(figures, site_load_figure(result, scenario))

    for axes in figure.axes:
        assert axes.get_ylim()[1] >= HEADROOM * highest(axes) - 1e-9, axes.get_ylabel()


def test_a_crowded_site_stacks_its_top_connectors_and_one_band_for_the_rest(
    figures: list[Figure],
) -> None:
    scenario = crowded()
    result = replay(scenario, "uncontrolled", None)

    bands = connector_bands(result)
    figure = kept(figures, site_load_figure(result, scenario))

    labels = [label for label, _ in bands]
    assert labels == [
        *(f"cp{n}/1" for n in range(219, 219 - TOP_CONNECTORS, -1)),
        "others (210 connectors)",
    ]
    total_kw = sum(values for _, values in bands)
    assert np.allclose(total_kw, result.connector_power_w.sum(axis=1) / 1000.0)
    stack = figure.axes[0]
    assert sum(isinstance(c, PolyCollection) for c in stack.collections) == 1 + len(bands)
    legend = stack.get_legend()
    assert legend is not None
    assert "others (210 connectors)" in [text.get_text() for text in legend.get_texts()]


def test_circuit_currents_add_up_to_what_the_connectors_drew(
    congested: tuple[Scenario, ReplayResult],
) -> None:
    scenario = all_in_circuits(congested[0])
    result = replay(scenario, "uncontrolled")

    currents = circuit_currents_a(result, scenario)

    drawn_a = result.site_current_a - result.timeline.base_load_a
    assert drawn_a.max() > 0
    assert np.allclose(currents["deck"], drawn_a)
    assert np.allclose(currents["row-a"] + currents["row-b"], drawn_a)
    assert currents["row-a"].max() > 0
    assert currents["row-b"].max() > 0


def test_a_site_with_circuits_gets_a_circuit_panel(
    congested: tuple[Scenario, ReplayResult], figures: list[Figure]
) -> None:
    scenario, result = congested
    figure = kept(figures, site_load_figure(result, scenario))
    plain = kept(figures, site_load_figure(result, without_circuits(scenario)))

    assert len(plain.axes) == 2
    assert len(figure.axes) == 3
    panel = figure.axes[2]
    lines = {line.get_label(): line for line in panel.get_lines()}
    deck = circuit_currents_a(result, scenario)["deck"]
    assert deck.max() > 0
    assert np.allclose(lines["deck"].get_ydata(), deck.max(axis=1))
    assert set(lines["deck limit"].get_ydata()) == {20.0}


def test_the_comparison_shows_the_limit(
    congested: tuple[Scenario, ReplayResult], figures: list[Figure]
) -> None:
    scenario, uncontrolled = congested
    kpis = {
        "uncontrolled": compute_kpis(uncontrolled),
        "equal": compute_kpis(replay(scenario, "equal")),
    }

    figure = kept(figures, comparison_figure(kpis, 40.0))

    peaks = next(a for a in figure.axes if a.get_title() == "peak phase current (A)")
    limits = [line for line in peaks.get_lines() if "limit" in str(line.get_label())]
    assert len(limits) == 1
    assert set(limits[0].get_ydata()) == {40.0}
    assert peaks.get_ylim()[1] >= HEADROOM * max(40.0, kpis["uncontrolled"].peak_phase_current_a)
    over = [to_hex(bar.get_facecolor()) for bar in peaks.patches]
    assert over == [OVER_LIMIT_COLOUR, to_hex("#4292c6")]


def test_the_site_load_plot_is_a_png(
    congested: tuple[Scenario, ReplayResult], tmp_path: Path
) -> None:
    scenario, result = congested
    path = tmp_path / "site_load.png"

    plot_site_load(result, scenario, path)

    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
