from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from rich.console import Console

from adapters.demo.table import phases_text, site_line, status_view, summary_line
from tests.adapters.http.fakes import sample_snapshot


def render(width: int = 160) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(status_view(sample_snapshot(), datetime(2025, 3, 3, 9, 41, tzinfo=UTC)))
    return console.export_text()


def test_every_connector_is_a_row_with_allowed_drawn_and_reason() -> None:
    lines = render().splitlines()
    row = next(line for line in lines if line.startswith("cp2/2"))
    assert "SuspendedEVSE" in row
    assert "paused" in row
    assert "insufficient_capacity" in row
    row = next(line for line in lines if line.startswith("cp2/1"))
    assert " 0.0  10.0   0.0" in row
    assert " 0.0   9.7   0.0" in row
    row = next(line for line in lines if line.startswith("cp3/1"))
    assert "    -     -     -" in row


def test_the_site_line_shows_each_phase_against_the_limit_and_the_mode() -> None:
    text = site_line(sample_snapshot(), datetime(2025, 3, 3, 9, 41, tzinfo=UTC)).plain
    assert "L1  23.8/32 A" in text
    assert "L2  31.5/32 A" in text
    assert "mode normal" in text
    assert "meter 1.5 s" in text
    assert "site time 09:41" in text


def test_an_unknown_site_current_is_not_shown_as_zero() -> None:
    snapshot = sample_snapshot()
    site = dataclasses.replace(snapshot.site, current_a=(None, None, None), meter_age_s=None)
    text = site_line(dataclasses.replace(snapshot, site=site)).plain
    assert "L1    ?/32 A" in text
    assert "meter no reading" in text


def test_the_summary_counts_states_and_names_the_bottleneck() -> None:
    text = summary_line(sample_snapshot())
    assert text.startswith("2/3 chargers connected; 2 charging, 1 idle, 1 paused")
    assert "at limit: site-L2" in text


def test_phases_text_keeps_its_columns() -> None:
    assert phases_text((6.0, None, 32.0)) == "  6.0     -  32.0"
