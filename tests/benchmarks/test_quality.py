"""The quality benchmark's row computation and table, on one small generated scenario
(the full run is `python -m benchmarks.quality`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from rich.console import Console

from benchmarks import quality
from benchmarks.quality import (
    QualityRow,
    measure,
    scenario_table,
    set_constant,
    summary_table,
    targets,
)
from ems.replay.family import generate
from ems.replay.scenario import Scenario
from ems.replay.timeline import Timeline
from optimizer.offline import MipOptions


@pytest.fixture(scope="module")
def row() -> QualityRow:
    return measure(generate("depot", 3, min_connectors=10, max_connectors=10))


def test_a_row_holds_every_strategy_and_its_gaps(row: QualityRow) -> None:
    assert set(row.delivered_pct) == {"edf", "llf", "edf_grid", "llf_grid", "optimal", "offline"}
    assert all(0.0 <= v <= 100.0 for v in row.delivered_pct.values())
    assert all(0 <= n <= row.sessions for n in row.fully_served.values())
    assert set(row.violation_steps.values()) == {0}
    d = row.delivered_pct
    assert row.gap_to_best_baseline == pytest.approx(d["optimal"] - max(d["edf"], d["llf"]))
    assert row.gap_to_grid_baseline == pytest.approx(
        d["optimal"] - max(d["edf_grid"], d["llf_grid"])
    )
    # On the grid a baseline can only lose what the continuous one uses between its steps.
    assert d["edf_grid"] <= d["edf"] + 1e-9
    assert d["llf_grid"] <= d["llf"] + 1e-9
    assert row.gap_to_offline == pytest.approx(d["optimal"] - d["offline"])
    assert row.served_vs_edf == row.fully_served["optimal"] - row.fully_served["edf"]
    assert row.served_vs_edf_on_grid == (row.fully_served["optimal"] - row.fully_served["edf_grid"])
    assert row.optimal_s_per_day > 0.0
    # The scenario is congested, so the numbers compare something.
    assert min(d.values()) < 99.0


def test_above_0_a_a_row_measures_optimal_against_the_mip_bound(row: QualityRow) -> None:
    six = measure(generate("depot", 3, min_connectors=10, max_connectors=10), min_current_a=6.0)
    assert six.min_current_a == 6.0
    assert six.mip_bound_pct is not None
    assert six.gap_to_mip_bound is not None
    assert six.mip_open is not None
    assert six.gap_to_mip_bound <= 0.001
    assert 0.0 <= six.mip_open <= 0.2
    assert six.mip_bound_pct <= six.delivered_pct["offline"] + 0.01
    assert row.gap_to_mip_bound is None
    assert row.mip_open is None
    console = Console(width=200, record=True)
    console.print(summary_table([row, six]))
    assert "MIP bound" in console.export_text()


def test_the_table_has_a_row_per_group_and_one_for_all(row: QualityRow) -> None:
    zero = QualityRow(**{**row.__dict__, "min_current_a": 0.0, "shape": "workplace"})
    table = summary_table([row, zero])
    assert table.row_count == 3
    console = Console(width=200, record=True)
    console.print(table)
    text = console.export_text()
    assert "depot" in text
    assert "workplace" in text
    assert "all" in text
    six = QualityRow(**{**row.__dict__, "min_current_a": 6.0})
    assert len(targets([zero, six])) == 6
    assert targets([six]) == ["no scenario at 0 A minimum"]


def test_the_scenario_table_lists_the_largest_loss_to_offline_first(row: QualityRow) -> None:
    lost = QualityRow(
        **{**row.__dict__, "name": "lost", "delivered_pct": {**row.delivered_pct, "optimal": 0.0}}
    )
    table = scenario_table([row, lost])
    assert table.row_count == 2
    console = Console(width=200, record=True)
    console.print(table)
    text = console.export_text()
    assert text.index("lost") < text.index(row.name)
    assert scenario_table([row, lost], worst=1).row_count == 1


def test_set_replaces_a_policy_constant_and_refuses_anything_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import optimizer.lookahead as lookahead

    monkeypatch.setattr(lookahead, "FINISH_WEIGHT", lookahead.FINISH_WEIGHT)
    before = lookahead.FINISH_WEIGHT
    assert set_constant("optimizer.lookahead.FINISH_WEIGHT=0.25") == (
        "optimizer.lookahead.FINISH_WEIGHT",
        before,
    )
    assert lookahead.FINISH_WEIGHT == 0.25
    for wrong, why in (
        ("os.SEP=1", "not a constant"),
        ("optimizer.lookahead.plan_now=1", "not a constant"),
        ("optimizer.lookahead.NO_SUCH=1", "not a number constant"),
        ("optimizer.lookahead.TAIL_WH=many", "could not convert"),
    ):
        with pytest.raises(ValueError, match=why):
            set_constant(wrong)
    assert lookahead.TAIL_WH > 0.0


@pytest.mark.parametrize(
    ("optimal_pct", "optimal_served", "ranks"),
    [(60.0, 3, True), (60.0, 5, True), (50.02, 5, True), (50.02, 3, False), (49.0, 9, False)],
)
def test_in_the_issues_order_energy_ranks_before_sessions_served(
    row: QualityRow, optimal_pct: float, optimal_served: int, ranks: bool
) -> None:
    """EDF delivers 50 % and fully serves 5: more energy wins whatever is served; within
    0.05 points it is a tie, and sessions served decide."""
    edf_and_optimal = QualityRow(
        **{
            **row.__dict__,
            "delivered_pct": {**row.delivered_pct, "edf": 50.0, "optimal": optimal_pct},
            "fully_served": {**row.fully_served, "edf": 5, "optimal": optimal_served},
        }
    )
    assert edf_and_optimal.ranks_at_least_edf is ranks


def test_a_mip_stopped_before_its_bound_came_down_is_bounded_by_the_lp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large site's MIP may stop at its time limit with a bound far above any plan (as
    depot-1001 did, at 212 % of the requested energy); the LP ignores the minimum, so its
    optimum bounds the MIP's plans too."""
    solve = quality.plan_offline

    def stopped(scenario: Scenario, timeline: Timeline, mip: MipOptions | None = None) -> Any:
        plan = solve(scenario, timeline, mip)
        return plan if mip is None else replace(plan, bound_wh=3.0 * plan.bound_wh)

    monkeypatch.setattr(quality, "plan_offline", stopped)
    six = measure(generate("depot", 3, min_connectors=10, max_connectors=10), min_current_a=6.0)
    assert six.mip_bound_pct is not None
    assert six.mip_bound_pct <= six.delivered_pct["offline"] + 0.2
    assert six.gap_to_mip_bound is not None
    assert six.gap_to_mip_bound <= 0.001
