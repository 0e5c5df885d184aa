"""The hindsight problem on cases small enough to solve by hand, through real HiGHS."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.offline import MipOptions, OfflineProblem, OfflineSession, solve_offline

VOLTAGE_V = 230.0
EXACT = MipOptions(time_limit_s=10.0, rel_gap=1e-9)


def _session(
    need_wh: float, max_a: float = 8.0, min_a: float = 6.0, steps: int = 2
) -> OfflineSession:
    """A 1-phase session on limit row 0 for `steps` steps of one hour: 230 Wh per ampere."""
    return OfflineSession(
        first=0,
        wh_per_a=np.full(steps, VOLTAGE_V),
        max_a=max_a,
        min_a=min_a,
        need_wh=need_wh,
        rows=(0,),
        phase_count=1,
    )


def _problem(*sessions: OfflineSession, limit_a: float = 10.0, steps: int = 2) -> OfflineProblem:
    return OfflineProblem(
        steps=steps,
        sessions=sessions,
        row_limit_a=np.full((1, steps), limit_a),
        power_headroom_w=np.full(steps, np.nan),
        voltage_v=VOLTAGE_V,
    )


def test_two_minimums_that_do_not_fit_together_take_turns_in_the_mip() -> None:
    """Two sessions of at most 8 A and at least 6 A share 10 A for two hours, neither can
    be filled. The LP splits the 10 A (2 × 10 A × 230 V = 4600 Wh); in the MIP 6 + 6 A do
    not fit, so one session charges at a time, at its 8 A: 2 × 8 A × 230 V = 3680 Wh."""
    problem = _problem(_session(10_000.0), _session(10_000.0))
    lp = solve_offline(problem)
    assert lp.energy_wh == pytest.approx(4600.0, rel=1e-6)
    assert lp.bound_wh == pytest.approx(4600.0, rel=1e-6)
    mip = solve_offline(problem, EXACT)
    assert mip.energy_wh == pytest.approx(3680.0, rel=1e-6)
    assert mip.bound_wh == pytest.approx(3680.0, rel=1e-6)
    both = np.vstack(mip.current_a)
    assert sorted(both[:, 0].round(6)) == [0.0, 8.0]
    assert sorted(both[:, 1].round(6)) == [0.0, 8.0]


def test_a_need_below_one_step_at_the_minimum_is_met_in_the_mip_too() -> None:
    """An EV stops when full, so the step its need is met in may be drawn in part: a need
    of 3 A for one hour (690 Wh) is met by an EV at its 6 A minimum, in both forms."""
    alone = _problem(_session(690.0, steps=1), steps=1)
    assert solve_offline(alone).energy_wh == pytest.approx(690.0, rel=1e-6)
    assert solve_offline(alone, EXACT).energy_wh == pytest.approx(690.0, rel=1e-6)


def test_a_session_below_its_minimum_waits_in_the_mip() -> None:
    """Beside that small need, an EV of at most 8 A and a large need shares 8.5 A for one
    hour. The LP gives it the other 5.5 A (690 + 5.5 × 230 = 1955 Wh); in the MIP 5.5 A is
    below its minimum and 3 + 6 A do not fit, so it charges alone at 8 A (1840 Wh)."""
    small, large = _session(690.0, steps=1), _session(10_000.0, steps=1)
    problem = _problem(small, large, limit_a=8.5, steps=1)
    assert solve_offline(problem).energy_wh == pytest.approx(1955.0, rel=1e-6)
    mip = solve_offline(problem, EXACT)
    assert mip.energy_wh == pytest.approx(1840.0, rel=1e-6)
    assert mip.bound_wh == pytest.approx(1840.0, rel=1e-6)
    assert [float(a[0]) for a in mip.current_a] == pytest.approx([0.0, 8.0])


def test_without_a_minimum_the_mip_is_the_lp() -> None:
    problem = _problem(_session(10_000.0, min_a=0.0), _session(10_000.0, min_a=0.0))
    solution = solve_offline(problem, EXACT)
    assert solution.energy_wh == pytest.approx(4600.0, rel=1e-6)
    assert solution.bound_wh == pytest.approx(4600.0, rel=1e-6)


def test_the_bound_covers_the_discount_for_later_energy() -> None:
    """With a preference for earlier energy the objective undercounts later energy; the
    bound divides by the deepest discount, so it still bounds the energy."""
    problem = _problem(_session(10_000.0, min_a=0.0))
    discounted = OfflineProblem(
        steps=problem.steps,
        sessions=problem.sessions,
        row_limit_a=problem.row_limit_a,
        power_headroom_w=problem.power_headroom_w,
        voltage_v=VOLTAGE_V,
        earlier_weight=0.01,
    )
    solution = solve_offline(discounted)
    assert solution.energy_wh == pytest.approx(2 * 8 * 230.0, rel=1e-6)
    assert solution.energy_wh <= solution.bound_wh <= solution.energy_wh * 1.011
