"""Scenario folders: the shipped ones load, a written scenario reads back unchanged, and
every kind of bad input is reported with its file, line and column."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from adapters.cli.main import cli
from adapters.files.errors import InputFileError
from adapters.files.scenario import load_scenario, write_scenario
from ems.replay.cost_scenarios import COST_REFERENCE
from ems.replay.synthetic import REFERENCE, small

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
HEADER = "session_id,connector_id,arrival,departure,energy_kwh,max_power_kw,phases"
GOOD = "s1,cp001/1,2025-03-03T08:00:00Z,2025-03-03T10:00:00Z,10,11,3"


SHIPPED = {**REFERENCE, **COST_REFERENCE}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_scenarios_load_and_match_their_generator(name: str) -> None:
    loaded = load_scenario(SCENARIOS / name)
    generated = SHIPPED[name]()
    assert loaded.scenario.site == generated.site
    assert loaded.scenario.sessions == generated.sessions
    assert loaded.scenario.base_load == generated.base_load
    assert loaded.scenario.prices == generated.prices
    assert loaded.scenario.pv == generated.pv


def test_written_scenario_reads_back(tmp_path: Path) -> None:
    write_scenario(small(), tmp_path / "small")
    loaded = load_scenario(tmp_path / "small").scenario
    assert loaded.sessions == small().sessions
    assert loaded.site == small().site


def test_battery_sizes_are_written_and_read_back(tmp_path: Path) -> None:
    sessions = small().sessions
    sized = (replace(sessions[0], battery_wh=42_000.0), *sessions[1:])
    write_scenario(replace(small(), sessions=sized), tmp_path / "sized")
    loaded = load_scenario(tmp_path / "sized").scenario
    assert loaded.sessions == sized
    assert loaded.sessions[0].battery_wh == 42_000.0


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "scenario"
    shutil.copytree(SCENARIOS / "small", target)
    return target


def _sessions(folder: Path, *lines: str, header: str = HEADER) -> None:
    (folder / "sessions.csv").write_text("\n".join([header, *lines]) + "\n")


def _error(folder: Path) -> InputFileError:
    with pytest.raises(InputFileError) as caught:
        load_scenario(folder)
    return caught.value


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("s1,cp001/1,2025-03-03T08:00:00Z,2025-03-03T10:00:00Z,ten,11,3", "energy_kwh", "number"),
        ("s1,cp001/1,2025-03-03T08:00:00Z,2025-03-03T10:00:00Z,10,11,three", "phases", "integer"),
        ("s1,cp001/1,yesterday,2025-03-03T10:00:00Z,10,11,3", "arrival", "ISO 8601"),
        ("s1,cp001/1,2025-03-03T08:00:00,2025-03-03T10:00:00Z,10,11,3", "arrival", "offset"),
        ("s1,cp001/1,2025-03-03T10:00:00Z,2025-03-03T08:00:00Z,10,11,3", "departure", "not after"),
        ("s1,cp009/1,2025-03-03T08:00:00Z,2025-03-03T10:00:00Z,10,11,3", "connector_id", "unknown"),
        ("s1,cp001/1,2025-03-03T08:00:00Z,2025-03-03T10:00:00Z,-2,11,3", "energy_kwh", ">= 0"),
        ("s1,cp001/1,2025-03-03T08:00:00Z,2025-03-03T10:00:00Z,10,0,3", "max_power_kw", "> 0"),
        ("s1,cp001/1,2025-03-03T08:00:00Z,2025-03-03T10:00:00Z,10,11,4", "phases", "1, 2 or 3"),
    ],
)
def test_bad_session_value_names_file_line_and_column(
    folder: Path, row: str, column: str, words: str
) -> None:
    _sessions(folder, GOOD.replace("s1", "s0").replace("cp001/1", "cp001/2"), row)
    error = _error(folder)
    assert Path(error.path).name == "sessions.csv"
    assert error.line == 3
    assert error.column == column
    assert words in error.message
    assert "sessions.csv:3: column " + column in str(error)


def test_missing_column_is_named(folder: Path) -> None:
    _sessions(
        folder,
        "s1,cp001/1,2025-03-03T08:00:00Z,2025-03-03T10:00:00Z,10,11",
        header=HEADER[: HEADER.rindex(",")],
    )
    error = _error(folder)
    assert (error.line, error.column) == (1, "phases")
    assert "missing column" in error.message


def test_unknown_column_is_named_with_a_suggestion(folder: Path) -> None:
    _sessions(folder, GOOD + ",1", header=HEADER + ",priorty")
    error = _error(folder)
    assert (error.line, error.column) == (1, "priorty")
    assert "did you mean 'priority'" in error.message


def test_overlapping_sessions_on_one_connector(folder: Path) -> None:
    _sessions(folder, GOOD, "s2,cp001/1,2025-03-03T09:00:00Z,2025-03-03T11:00:00Z,10,11,3")
    error = _error(folder)
    assert (error.line, error.column) == (3, "arrival")
    assert "before session 's1' (line 2) leaves" in error.message


def test_duplicate_session_id(folder: Path) -> None:
    _sessions(folder, GOOD, GOOD.replace("cp001/1", "cp001/2"))
    error = _error(folder)
    assert (error.line, error.column) == (3, "session_id")


def test_short_row_is_reported(folder: Path) -> None:
    _sessions(folder, GOOD, "s2,cp001/2,2025-03-03T08:00:00Z")
    error = _error(folder)
    assert error.line == 3
    assert "expected 7 values" in error.message


@pytest.mark.parametrize(
    ("name", "content", "line", "column"),
    [
        ("baseload.csv", "timestamp,l1_a,l2_a,l3_a\n2025-03-03T08:00:00Z,1,x,3\n", 2, "l2_a"),
        ("baseload.csv", "timestamp,l1_a\n2025-03-03T08:00:00Z,1\n", 1, "l1_a"),
        (
            "baseload.csv",
            "timestamp,total_kw\n2025-03-03T08:00:00Z,1\n2025-03-03T07:00:00Z,1\n",
            3,
            "timestamp",
        ),
        ("limits.csv", "timestamp,limit_a\n2025-03-03T08:00:00+01:00,-5\n", 2, "limit_a"),
        ("limits.csv", "timestamp\n2025-03-03T08:00:00Z\n", 1, "limit_a"),
        ("limits.csv", "timestamp,limit_a\n2025-03-03T08:00:00Z,41\n", 2, "limit_a"),
        ("prices.csv", "timestamp,price_per_kwh\n2025-03-03 08:00,0.2\n", 2, "timestamp"),
        (
            "pv.csv",
            "timestamp,pv_kw\n2025-03-03T08:00:00Z,5\n2025-03-03T09:00:00Z,-1\n",
            3,
            "pv_kw",
        ),
        ("pv.csv", "timestamp,pv_kw\n2025-03-03T08:00:00Z,sunny\n", 2, "pv_kw"),
        ("pv.csv", "timestamp\n2025-03-03T08:00:00Z\n", 1, "pv_kw"),
    ],
)
def test_bad_series_file_names_file_line_and_column(
    folder: Path, name: str, content: str, line: int, column: str
) -> None:
    (folder / name).write_text(content)
    error = _error(folder)
    assert Path(error.path).name == name
    assert (error.line, error.column) == (line, column)


def test_total_kw_base_load_is_spread_over_three_phases(folder: Path) -> None:
    (folder / "baseload.csv").write_text("timestamp,total_kw\n2025-03-03T08:00:00Z,6.9\n")
    point = load_scenario(folder).scenario.base_load[0]
    assert point.current_a == pytest.approx((10.0, 10.0, 10.0))


def test_times_with_offsets_become_utc(folder: Path) -> None:
    _sessions(folder, "s1,cp001/1,2025-03-03T09:00:00+01:00,2025-03-03T11:00:00+01:00,10,11,3")
    session = load_scenario(folder).scenario.sessions[0]
    assert session.arrival.isoformat() == "2025-03-03T08:00:00+00:00"


def test_base_load_net_of_pv_may_be_negative(folder: Path) -> None:
    (folder / "baseload.csv").write_text("timestamp,l1_a,l2_a,l3_a\n2025-03-03T08:00:00Z,-5,2,3\n")
    assert load_scenario(folder).scenario.base_load[0].current_a == (-5.0, 2.0, 3.0)


def test_a_tariff_in_site_toml_is_read_and_a_bad_one_named(folder: Path) -> None:
    site = folder / "site.toml"
    site.write_text(
        site.read_text() + "\n[tariff]\nprice_per_kwh = 0.3\ndemand_charge_per_kw = 9\n"
    )
    tariff = load_scenario(folder).scenario.site.tariff
    assert (tariff.fixed_price_per_kwh, tariff.demand_price_per_kw) == (0.3, 9.0)
    site.write_text(site.read_text().replace("demand_charge_per_kw = 9", "demand_charge_kw = 9"))
    error = _error(folder)
    assert error.field == "tariff.demand_charge_kw"
    assert "did you mean 'demand_charge_per_kw'" in error.message


def test_bad_site_file_names_its_line_and_field(folder: Path) -> None:
    text = (folder / "site.toml").read_text().replace("limit_a = 40", "limit_a = -40")
    (folder / "site.toml").write_text(text)
    error = _error(folder)
    assert Path(error.path).name == "site.toml"
    assert error.line == 3
    assert error.field == "site.limit_a"


def test_missing_sessions_file(folder: Path) -> None:
    (folder / "sessions.csv").unlink()
    assert "missing" in _error(folder).message


def _replay(folder: Path, out: Path) -> Result:
    return CliRunner().invoke(cli, ["replay", str(folder), "--out", str(out)])


def test_a_byte_order_mark_is_read_as_excel_writes_it(folder: Path) -> None:
    """Excel's "CSV UTF-8" starts the file with a byte-order mark."""
    sessions = folder / "sessions.csv"
    sessions.write_bytes(b"\xef\xbb\xbf" + sessions.read_bytes())
    plan = ["plan", "--scenario", str(folder), "--at", "2025-03-03T10:00:00Z", "--json"]
    result = CliRunner().invoke(cli, plan)
    assert result.exit_code == 0, result.output
    assert '"cp001/1"' in result.output
    assert load_scenario(folder).scenario.sessions == small().sessions


@pytest.mark.parametrize("start", [b"", b"\xef\xbb\xbf"])
def test_a_csv_that_is_not_utf8_names_its_line(folder: Path, tmp_path: Path, start: bytes) -> None:
    _sessions(folder, GOOD, GOOD.replace("s1", "caf\xe9").replace("cp001/1", "cp001/2"))
    latin = (folder / "sessions.csv").read_text().encode("latin-1")
    (folder / "sessions.csv").write_bytes(start + latin)
    result = _replay(folder, tmp_path / "out")
    assert result.exit_code == 2
    assert f"{folder / 'sessions.csv'}:3: not UTF-8 text (byte 0xe9)" in result.output
    assert "save it as UTF-8" in result.output


def test_a_huge_field_names_its_line(folder: Path, tmp_path: Path) -> None:
    _sessions(folder, GOOD, GOOD.replace("s1", "x" * 140_000))
    result = _replay(folder, tmp_path / "out")
    assert result.exit_code == 2
    assert f"{folder / 'sessions.csv'}:3: " in result.output
    assert "131072 characters" in result.output


@pytest.mark.parametrize(
    ("departure", "words"),
    [
        ("9999-12-31T23:00:00-05:00", "year 9999 is out of range"),
        ("9999-06-01T08:00:00Z", "year 9999 is out of range"),
        ("1969-12-31T23:00:00Z", "year 1969 is out of range"),
    ],
)
def test_a_time_out_of_range_names_its_line_and_column(
    folder: Path, tmp_path: Path, departure: str, words: str
) -> None:
    _sessions(folder, GOOD, GOOD.replace("s1", "s2").replace("2025-03-03T10:00:00Z", departure))
    result = _replay(folder, tmp_path / "out")
    assert result.exit_code == 2
    assert f"{folder / 'sessions.csv'}:3: column " in result.output
    assert words in result.output


def test_a_duplicated_column_is_refused(folder: Path, tmp_path: Path) -> None:
    """Two columns of one name: which one a reader takes is a guess, so none is taken."""
    (folder / "baseload.csv").write_text(
        "timestamp,l1_a,l2_a,l3_a,l1_a\n2025-03-03T08:00:00Z,1,2,3,90\n", encoding="utf-8"
    )
    result = _replay(folder, tmp_path / "out")
    assert result.exit_code == 2
    assert f"{folder / 'baseload.csv'}:1: column l1_a: " in result.output
    assert "appears twice (columns 2 and 5)" in result.output
    assert not (tmp_path / "out").exists()
