"""Invalid problems raise ProblemError naming the subject and the field."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from optimizer import (
    Circuit,
    Connector,
    Horizon,
    Lookahead,
    Phase,
    Problem,
    ProblemError,
    SiteLimits,
    Solver,
)
from tests.optimizer.helpers import START, THREE, ev


def _problem(**kw: object) -> Problem:
    defaults: dict[str, object] = {"site": SiteLimits(32.0), "connectors": (ev("a"),)}
    defaults.update(kw)
    return Problem(**defaults)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("problem", "subject", "field"),
    [
        (_problem(site=SiteLimits(-1.0)), "site", "phase_limit_a"),
        (_problem(site=SiteLimits(32.0, power_limit_w=-5.0)), "site", "power_limit_w"),
        (_problem(circuits=(Circuit("c1", -16.0),)), "c1", "limit_a"),
        (_problem(connectors=(ev("a", max_a=-1.0),)), "a", "max_current_a"),
        (_problem(connectors=(ev("a", phases=(4,)),)), "a", "phases"),  # type: ignore[arg-type]
        (_problem(connectors=(ev("a"), ev("a"))), "a", "id"),
        (_problem(circuits=(Circuit("c", 1.0), Circuit("c", 2.0))), "c", "id"),
        (_problem(connectors=(ev("a", max_a=5.0),)), "a", "min_current_a"),
        (_problem(connectors=(ev("a", circuit="nope"),)), "a", "circuit"),
        (
            _problem(circuits=(Circuit("x", 10.0, parent="y"), Circuit("y", 10.0, parent="x"))),
            "x",
            "parent",
        ),
        (_problem(circuits=(Circuit("x", 10.0, parent="ghost"),)), "x", "parent"),
        (
            _problem(connectors=(ev("a", phases=(Phase.L1,), ev_phases=(Phase.L2,)),)),
            "a",
            "ev_phases",
        ),
        (_problem(connectors=(ev("a", priority=0.0),)), "a", "priority"),
        (_problem(connectors=(ev("a", departure=datetime(2025, 1, 1)),)), "a", "departure"),
        (
            _problem(horizon=Horizon(START, 900.0, 4, price_per_kwh=(0.1, 0.2))),
            "horizon",
            "price_per_kwh",
        ),
        (
            _problem(horizon=Horizon(START, 900.0, 2, base_load_a=((1.0, 1.0, 1.0),))),
            "horizon",
            "base_load_a",
        ),
        (_problem(horizon=Horizon(datetime(2025, 1, 1), 900.0, 2)), "horizon", "start"),
        (_problem(horizon=Horizon(START, 0.0, 2)), "horizon", "step_s"),
        (_problem(lookahead=Lookahead(datetime(2025, 1, 1), 300.0)), "lookahead", "start"),
        (_problem(lookahead=Lookahead(START, float("nan"))), "lookahead", "step_s"),
        (_problem(base_load_a=(1.0, float("nan"), 0.0)), "site", "base_load_a"),
    ],
)
def test_invalid_problem_names_subject_and_field(
    problem: Problem, subject: str, field: str
) -> None:
    with pytest.raises(ProblemError) as caught:
        Solver().solve(problem)
    assert caught.value.subject == subject
    assert caught.value.field == field
    assert subject in str(caught.value)
    assert field in str(caught.value)


def test_problem_error_is_a_value_error() -> None:
    assert issubclass(ProblemError, ValueError)


def test_valid_problem_passes() -> None:
    problem = _problem(
        circuits=(Circuit("c1", 16.0),),
        connectors=(
            ev("a", circuit="c1", arrival=START, departure=START + timedelta(hours=2)),
            Connector("b", THREE, 16.0),
        ),
        horizon=Horizon(START, 900.0, 2, price_per_kwh=(0.1, 0.2)),
    )
    Solver().solve(problem)
