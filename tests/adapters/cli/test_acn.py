"""`ems import-acn` writes a scenario that `ems compare` replays through real HiGHS."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from adapters.cli.main import cli
from adapters.files.scenario import load_scenario
from tests.adapters.files.acn_documents import day_of_sessions, document


def _busy_morning() -> list[dict[str, object]]:
    """Twelve spaces whose drivers all arrive by ten: far more than a 32 A site can serve
    at once, so uncontrolled charging overloads it."""
    return [
        document(f"2_39_{n:03d}_x", f"CA-{300 + n}", 8.0 + n / 6.0, 14.0 + n / 4.0, 6.0 + n)
        for n in range(12)
    ]


def test_imported_sessions_replay_under_the_limit(tmp_path: Path) -> None:
    source = tmp_path / "acn.json"
    items = _busy_morning()
    source.write_text(json.dumps({"_meta": {}, "_items": items}))
    scenario_dir = tmp_path / "caltech"
    runner = CliRunner()
    imported = runner.invoke(
        cli,
        ["import-acn", str(source), "--out", str(scenario_dir), "--limit-a", "32"],
        terminal_width=120,
    )
    assert imported.exit_code == 0, imported.output
    assert re.search(r"sessions\s+│\s+12\s", imported.output)
    assert re.search(r"connectors\s+│\s+12\s", imported.output)
    assert f"ems compare {scenario_dir}" in imported.output
    assert len(load_scenario(scenario_dir).scenario.sessions) == 12

    out = tmp_path / "out"
    compared = runner.invoke(
        cli,
        [
            "compare",
            str(scenario_dir),
            "--strategies",
            "uncontrolled,optimal",
            "--min-current",
            "0",
            "--out",
            str(out),
        ],
    )
    assert compared.exit_code == 0, compared.output
    kpis = json.loads((out / "comparison.json").read_text())
    wanted = sum(float(item["kWhDelivered"]) for item in items)  # type: ignore[arg-type]
    assert kpis["optimal"]["energy_requested_kwh"] == round(wanted, 3)
    assert kpis["uncontrolled"]["limit_violation_steps"] > 0
    assert kpis["optimal"]["limit_violation_steps"] == 0
    assert kpis["optimal"]["peak_phase_current_a"] <= 32.0 + 1e-6


def test_skipped_sessions_are_listed(tmp_path: Path) -> None:
    source = tmp_path / "acn.json"
    source.write_text(json.dumps(day_of_sessions()))
    result = CliRunner().invoke(
        cli,
        ["import-acn", str(source), "--out", str(tmp_path / "s"), "--limit-a", "40"],
        terminal_width=160,
    )
    assert result.exit_code == 0, result.output
    assert "overlaps 2_39_79_380_d on space CA-489" in result.output
    assert "disconnected before it connected" in result.output


def test_a_bad_file_is_named_with_its_field_and_nothing_is_written(tmp_path: Path) -> None:
    items = day_of_sessions()
    items[2]["kWhDelivered"] = "n/a"
    source = tmp_path / "acn.json"
    source.write_text(json.dumps({"_items": items}))
    out = tmp_path / "s"
    result = CliRunner().invoke(
        cli, ["import-acn", str(source), "--out", str(out), "--limit-a", "40"]
    )
    assert result.exit_code == 2
    assert f"{source}: _items[2].kWhDelivered: expected energy in kWh" in result.output
    assert not out.exists()


def test_a_window_without_sessions_says_so(tmp_path: Path) -> None:
    source = tmp_path / "acn.json"
    source.write_text(json.dumps(day_of_sessions()))
    out = tmp_path / "s"
    result = CliRunner().invoke(
        cli,
        [
            "import-acn",
            str(source),
            "--out",
            str(out),
            "--limit-a",
            "40",
            "--from",
            "2020-01-01T00:00Z",
        ],
    )
    assert result.exit_code == 1
    assert "no session of" in result.output
    assert "between --from and --to" in result.output
    assert not out.exists()
