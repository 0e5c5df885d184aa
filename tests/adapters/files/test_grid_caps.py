"""`[site] grid_caps_file`: the grid operator's cap schedule is read, folded into a
scenario's limits, and every kind of bad input is named by file, line and column."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.files.config import load_config
from adapters.files.errors import InputFileError
from adapters.files.grid_caps import load_grid_caps, with_grid_caps
from adapters.files.scenario import load_scenario, write_scenario
from ems.grid_cap import GridCap
from ems.replay.scenario import LimitPoint
from ems.replay.synthetic import small
from optimizer.problem import SiteLimits

FUSE = SiteLimits(40.0, 30_000.0, 230.0)
CONFIG = """[site]
name = "x"
limit_a = 40
power_limit_kw = 30
grid_caps_file = "caps.csv"

[[chargers]]
id = "cp1"
[[chargers.connectors]]
connector_id = 1
phases = "L1L2L3"
max_current_a = 16
"""
CAPS = """timestamp,limit_a,power_limit_kw
2026-03-02T17:00:00+01:00,25,
2026-03-02T19:00:00+01:00,,11
2026-03-02T21:00:00+01:00,,
"""


def at(hour: int) -> datetime:
    return datetime(2026, 3, 2, hour, tzinfo=UTC)


def write(tmp_path: Path, caps: str, name: str = "caps.csv") -> Path:
    (tmp_path / name).write_text(caps, encoding="utf-8")
    return tmp_path / name


def test_a_schedule_is_read_into_the_site(tmp_path: Path) -> None:
    write(tmp_path, CAPS)
    (tmp_path / "site.toml").write_text(CONFIG)
    assert load_config(tmp_path / "site.toml").site.grid_caps == (
        GridCap(at(16), 25.0, None),
        GridCap(at(18), None, 11_000.0),
        GridCap(at(20), None, None),
    )


def test_a_missing_schedule_file_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "site.toml").write_text(CONFIG)
    with pytest.raises(InputFileError) as caught:
        load_config(tmp_path / "site.toml")
    assert str(caught.value).startswith(f"{tmp_path / 'site.toml'}:5: site.grid_caps_file: no such")


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("timestamp,limit_a\n2026-03-02T17:00:00,25\n", ":2: column timestamp", "no UTC offset"),
        ("timestamp,limit_a\nfive pm,25\n", ":2: column timestamp", "expected an ISO 8601 time"),
        (
            "timestamp,limit_a\n2026-03-02T17:00:00Z,25\n2026-03-02T16:00:00Z,30\n",
            ":3: column timestamp",
            "timestamps must increase",
        ),
        ("timestamp,limit_a\n2026-03-02T17:00:00Z,63\n", ":2: column limit_a", "is it in kW?"),
        ("timestamp,limit_a\n2026-03-02T17:00:00Z,-3\n", ":2: column limit_a", "must be >= 0"),
        ("timestamp,limit_a\n2026-03-02T17:00:00Z,lots\n", ":2: column limit_a", "a number"),
        (
            "timestamp,power_limit_kw\n2026-03-02T17:00:00Z,31\n",
            ":2: column power_limit_kw",
            "above the site's power_limit_kw = 30",
        ),
        ("timestamp\n2026-03-02T17:00:00Z\n", ":1: column limit_a", "missing column"),
        ("timestamp,limit_kw\n2026-03-02T17:00:00Z,5\n", ":1: column limit_kw", "unknown column"),
        ("timestamp,limit_a\n", ":1", "holds no caps"),
        ("", ":1", "is empty"),
    ],
)
def test_bad_schedules_are_named_by_file_line_and_column(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputFileError) as caught:
        load_grid_caps(path, FUSE)
    assert str(caught.value).startswith(f"{path}{where}:"), str(caught.value)
    assert message in str(caught.value)


def test_caps_fold_into_a_limit_series_as_the_lower_of_both() -> None:
    limits = (LimitPoint(at(15), 35.0), LimitPoint(at(18), 20.0))
    caps = (GridCap(at(16), 25.0), GridCap(at(17), None, 11_000.0), GridCap(at(23), 5.0))
    assert with_grid_caps(limits, caps, FUSE, until=at(22)) == (
        LimitPoint(at(15), 35.0),
        LimitPoint(at(16), 25.0),
        LimitPoint(at(17), 35.0, 11_000.0),
        LimitPoint(at(18), 20.0, 11_000.0),
    )


def test_a_scenario_replays_its_sites_caps(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    write_scenario(small(), folder)
    first = min(s.arrival for s in load_scenario(folder).scenario.sessions)
    stamp = first.isoformat()
    write(folder, f"timestamp,limit_a\n{stamp},12\n")
    site = (folder / "site.toml").read_text()
    (folder / "site.toml").write_text(
        site.replace("[site]\n", '[site]\ngrid_caps_file = "caps.csv"\n', 1)
    )
    assert load_scenario(folder).scenario.limits == (LimitPoint(first, 12.0),)
