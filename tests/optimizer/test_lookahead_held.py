"""In the blocks of one step the plan's current is the one set for the step, held until the
next; in a longer block it is a mean over the block."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from optimizer import Phase, Problem, SiteLimits
from optimizer.columns import columns_of
from optimizer.layout import layout_of
from optimizer.lookahead import _Blocks
from optimizer.parameters import parameters_of
from tests.optimizer.helpers import START, ev


def test_a_session_leaving_within_a_step_draws_its_current_only_while_there() -> None:
    """A current set for a step holds until the next: in a block of one step a session
    leaving 2 minutes in may be given its maximum, draws it for 120 s, and takes its room
    for all of the step; a longer block's current is a mean, at most the maximum for the
    part of the block the session is there."""
    now_s = START.timestamp()
    evs = tuple(
        ev(name, (Phase.L1,), max_a=16.0, departure=START + timedelta(seconds=s), energy_need_wh=wh)
        for name, s, wh in (("car", 420.0, 8_000.0), ("other", 1800.0, 10_000.0))
    )
    problem = Problem(site=SiteLimits(63.0), connectors=evs)
    columns = columns_of(problem.connectors)
    params = parameters_of(problem, layout_of(problem, columns), columns)
    edges = np.asarray([now_s, now_s + 300.0, now_s + 600.0, now_s + 1800.0])
    blocks = _Blocks.of(params, np.arange(2), edges)
    assert blocks.held.tolist() == [True, True, False]
    assert blocks.drawn[:, 0].tolist() == pytest.approx([300.0, 120.0, 1200.0])
    assert blocks.at_most()[1:, 0].tolist() == pytest.approx([16.0, 0.0])
    assert blocks.at_most()[2, 1] == pytest.approx(16.0)
