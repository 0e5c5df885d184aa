"""`ems replay` and `ems compare` write their outputs and print a table."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from adapters.cli.main import cli
from adapters.cli.replay import stated_control
from adapters.files.scenario import load_scenario
from ems.replay import STRATEGIES, ReplayOptions, compute_kpis, replay, runner
from ems.replay.controller_strategy import REPLAY_POLICY
from ems.site import ControlSettings
from optimizer.allocation import Allocation, SolveStatus
from optimizer.fallback import equal_share
from optimizer.problem import Problem

SMALL = Path(__file__).resolve().parents[3] / "scenarios" / "small"
KPI_KEYS = {
    "energy_requested_kwh",
    "energy_delivered_kwh",
    "energy_delivered_pct",
    "sessions_total",
    "sessions_fully_served",
    "peak_site_power_kw",
    "peak_phase_current_a",
    "limit_violation_steps",
    "limit_violation_kwh",
    "cost",
    "jain_fairness",
    "profile_changes",
    "wall_seconds",
    "solve_ms_p50",
    "solve_ms_p95",
    "optimizer_fallback_steps",
    "energy_cost",
    "peak_import_kw",
    "demand_charge",
    "total_cost",
    "export_kwh",
    "pv_self_consumption_pct",
}
OUTPUTS = ("kpis.json", "sessions.csv", "timeseries.csv", "site_load.png", "sessions.png")


def _check_outputs(folder: Path) -> dict[str, object]:
    for name in OUTPUTS:
        assert (folder / name).stat().st_size > 0, name
    assert (folder / "site_load.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    kpis: dict[str, object] = json.loads((folder / "kpis.json").read_text())
    assert kpis.keys() >= KPI_KEYS
    return kpis


@pytest.mark.parametrize("strategy", ["optimal", "uncontrolled"])
def test_replay_writes_kpis_tables_and_plots(tmp_path: Path, strategy: str) -> None:
    result = CliRunner().invoke(
        cli, ["replay", str(SMALL), "--strategy", strategy, "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    kpis = _check_outputs(tmp_path / "out")
    assert kpis["strategy"] == strategy
    assert kpis["sessions_total"] == 6
    sessions = (tmp_path / "out" / "sessions.csv").read_text().splitlines()
    assert sessions[0].startswith("session_id,connector_id")
    assert len(sessions) == 7
    timeseries = (tmp_path / "out" / "timeseries.csv").read_text().splitlines()
    assert "cp001/1_a" in timeseries[0]
    assert "energy delivered" in result.output


def test_replay_takes_step_and_min_current(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "replay",
            str(SMALL),
            "--strategy",
            "equal",
            "--step",
            "900",
            "--min-current",
            "0",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    kpis = json.loads((tmp_path / "kpis.json").read_text())
    assert kpis["step_s"] == 900


def test_compare_runs_every_strategy_and_prints_a_table(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["compare", str(SMALL), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for strategy in STRATEGIES:
        _check_outputs(tmp_path / strategy)
        assert strategy in result.output
    comparison = json.loads((tmp_path / "comparison.json").read_text())
    assert set(comparison) == set(STRATEGIES)
    assert {"round_robin", "edf", "llf"} <= set(comparison)
    assert (tmp_path / "comparison.png").stat().st_size > 0


def test_compare_rejects_an_unknown_strategy(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["compare", str(SMALL), "--out", str(tmp_path), "--strategies", "equal,magic"]
    )
    assert result.exit_code == 2
    assert "magic" in result.output


def test_bad_scenario_file_exits_2_naming_file_line_and_column(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(SMALL, folder)
    with (folder / "sessions.csv").open("a") as handle:
        handle.write("x9,cp001/1,2025-03-03T20:00:00,2025-03-03T21:00:00Z,5,11,3,1\n")
    result = CliRunner().invoke(cli, ["replay", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "sessions.csv:8: column arrival:" in result.output


def test_replay_takes_a_site_limit_and_keeps_under_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["replay", str(SMALL), "--limit-a", "25", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    kpis = json.loads((tmp_path / "kpis.json").read_text())
    assert kpis["limit_violation_steps"] == 0
    assert 24.0 < kpis["peak_phase_current_a"] <= 25.0
    limits = {
        line.split(",")[6] for line in (tmp_path / "timeseries.csv").read_text().splitlines()[1:]
    }
    assert limits == {"25.0"}


def test_sweep_sizes_the_fuse_per_strategy(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "sweep",
            str(SMALL),
            "--limit-a",
            "20,30:50:20",
            "--strategies",
            "optimal,uncontrolled",
            "--out",
            str(tmp_path),
        ],
        terminal_width=120,
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "sweep.csv")
    assert list(zip(frame["limit_a"], frame["strategy"], strict=True)) == [
        (limit, name) for limit in (20.0, 30.0, 50.0) for name in ("optimal", "uncontrolled")
    ]
    optimal = frame[frame["strategy"] == "optimal"].set_index("limit_a")
    uncontrolled = frame[frame["strategy"] == "uncontrolled"].set_index("limit_a")
    assert (optimal["limit_violation_steps"] == 0).all()
    assert (optimal["peak_phase_current_a"] <= optimal.index + 1e-6).all()
    assert optimal["energy_delivered_kwh"].is_monotonic_increasing
    assert optimal.loc[20.0, "energy_delivered_kwh"] < optimal.loc[50.0, "energy_delivered_kwh"]
    # Uncontrolled draws the same at every size; only how much it breaks the limit changes.
    assert uncontrolled["energy_delivered_kwh"].nunique() == 1
    assert (
        uncontrolled.loc[20.0, "limit_violation_kwh"]
        > uncontrolled.loc[50.0, "limit_violation_kwh"]
    )
    assert (tmp_path / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = [line for line in result.output.splitlines() if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows] == ["20", "30", "50"]


@pytest.mark.parametrize("limits", ["abc", "50:20:10", "20:50", "0,20", "20:50:0"])
def test_sweep_rejects_bad_sizes(tmp_path: Path, limits: str) -> None:
    result = CliRunner().invoke(
        cli, ["sweep", str(SMALL), "--limit-a", limits, "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--limit-a" in result.output
    assert not (tmp_path / "sweep.csv").exists()


def test_replay_says_when_the_controller_ran_on_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class FallbackSolver:
        def solve(self, problem: Problem) -> Allocation:
            return equal_share(problem, SolveStatus.FALLBACK_INFEASIBLE)

    monkeypatch.setattr(runner, "Solver", FallbackSolver)
    result = CliRunner().invoke(cli, ["replay", str(SMALL), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    kpis = json.loads((tmp_path / "out" / "kpis.json").read_text())
    fallback = kpis["optimizer_fallback_steps"]
    assert fallback > 0
    assert f"optimal ran {fallback} of 70 steps on the optimizer's safe fallback" in result.output


def test_the_battery_model_is_a_choice(tmp_path: Path) -> None:
    delivered = {}
    for battery in ("tapering", "ideal"):
        out = tmp_path / battery
        result = CliRunner().invoke(
            cli,
            [
                "compare",
                str(SMALL),
                "--strategies",
                "offline",
                "--battery",
                battery,
                "--out",
                str(out),
            ],
        )
        assert result.exit_code == 0, result.output
        comparison = json.loads((out / "comparison.json").read_text())
        delivered[battery] = comparison["offline"]["energy_delivered_kwh"]
    # Without a tail the hindsight bound can only deliver more.
    assert delivered["ideal"] >= delivered["tapering"] - 1e-6
    rejected = CliRunner().invoke(
        cli, ["replay", str(SMALL), "--battery", "magic", "--out", str(tmp_path / "x")]
    )
    assert rejected.exit_code == 2


def test_replay_honours_the_scenarios_control_keys(tmp_path: Path) -> None:
    """A `[control]` key the scenario states wins over the replay's policy
    (`REPLAY_POLICY`): here the look-ahead, which the replay turns on, is turned off."""

    folder = tmp_path / "small"
    shutil.copytree(SMALL, folder)
    with (folder / "site.toml").open("a", encoding="utf-8") as site:
        site.write("\n[control]\nlookahead = false\n")
    loaded = load_scenario(folder)
    assert stated_control(loaded) == {"lookahead"}
    assert stated_control(load_scenario(SMALL)) == frozenset()
    assert REPLAY_POLICY["lookahead"] is True

    result = CliRunner().invoke(
        cli, ["replay", str(folder), "--min-current", "0", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    kpis = json.loads((tmp_path / "out" / "kpis.json").read_text())
    options = ReplayOptions(min_current_a=0.0)
    without = compute_kpis(
        replay(
            loaded.scenario,
            "optimal",
            options,
            ControlSettings(lookahead=False),
            stated={"lookahead"},
        )
    )
    with_policy = compute_kpis(replay(loaded.scenario, "optimal", options, loaded.control))
    assert kpis["energy_delivered_kwh"] == pytest.approx(without.energy_delivered_kwh)
    assert kpis["profile_changes"] == without.profile_changes
    assert (without.energy_delivered_kwh, without.profile_changes) != (
        with_policy.energy_delivered_kwh,
        with_policy.profile_changes,
    )
