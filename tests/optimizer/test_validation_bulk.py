"""The bulk check of connectors and horizon never lets through what the walk rejects.

`validate` first checks connectors and horizon in bulk and walks them one value at a
time only when the bulk check objects; these properties pin that the bulk check is at
least as strict as the walk, so errors and the data accepted are as before.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import Circuit, Connector, Horizon, Phase, Problem, ProblemError, SiteLimits
from optimizer.columns import columns_of
from optimizer.validation import (
    _check_connectors,
    _check_horizon,
    _connectors_pass,
    _horizon_passes,
    validate,
)
from tests.optimizer.helpers import START

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CIRCUITS = (Circuit("c1", 32.0),)
ODD_NUMBERS = st.sampled_from([-1.0, math.nan, math.inf, -math.inf, "7", None, 0, True, 1e400])
NUMBER = st.floats(0.0, 40.0) | ODD_NUMBERS
PHASES = st.sampled_from(
    [(Phase.L1,), (Phase.L2, Phase.L3, Phase.L1), (), (Phase.L1, Phase.L1), (0,), [Phase.L2]]
)
MOMENTS = st.sampled_from([None, START, START + timedelta(hours=3), datetime(2025, 1, 6, 8)])


@st.composite
def connectors(draw: st.DrawFn) -> tuple[Connector, ...]:
    result = []
    for n in range(draw(st.integers(1, 4))):
        result.append(
            Connector(
                id=draw(st.sampled_from([f"cp{n}", "cp0"])),
                phases=draw(PHASES),
                max_current_a=draw(NUMBER),
                circuit=draw(st.sampled_from([None, "c1", "ghost"])),
                min_current_a=draw(NUMBER),
                ev_present=draw(st.booleans()),
                ev_phases=draw(st.none() | PHASES),
                ev_max_current_a=draw(st.none() | NUMBER),
                priority=draw(st.floats(-1.0, 3.0) | ODD_NUMBERS),
                arrival=draw(MOMENTS),
                departure=draw(MOMENTS),
                energy_need_wh=draw(st.none() | st.floats(-100.0, 1e4) | ODD_NUMBERS),
                previous_current_a=draw(st.none() | NUMBER),
            )
        )
    return tuple(result)


def _walk_rejects(check: object, *args: object) -> bool:
    try:
        check(*args)  # type: ignore[operator]
    except (ProblemError, TypeError, ValueError, OverflowError, AttributeError):
        return True
    return False


@SETTINGS
@given(connectors())
def test_bulk_connector_check_is_as_strict_as_the_walk(sessions: tuple[Connector, ...]) -> None:
    if _connectors_pass(columns_of(sessions), {"c1"}):
        assert not _walk_rejects(_check_connectors, sessions, {"c1"})


SERIES_VALUE = st.floats(0.0, 50.0) | ODD_NUMBERS


@SETTINGS
@given(
    st.integers(0, 3),
    st.integers(0, 3),
    st.none() | st.lists(st.tuples(SERIES_VALUE, SERIES_VALUE, SERIES_VALUE), max_size=3),
    st.none() | st.lists(SERIES_VALUE, max_size=3),
    st.none() | st.lists(SERIES_VALUE, max_size=3),
    st.none() | st.floats(-1.0, 5.0) | ODD_NUMBERS,
    st.sampled_from([900.0, 0.0, -1.0, math.nan]),
    MOMENTS.filter(lambda m: m is not None),
)
def test_bulk_horizon_check_is_as_strict_as_the_walk(
    steps: int,
    length: int,
    base: list[tuple[float, float, float]] | None,
    price: list[float] | None,
    limit: list[float] | None,
    peak: float | None,
    step_s: float,
    start: datetime,
) -> None:
    horizon = Horizon(
        start=start,
        step_s=step_s,
        steps=steps,
        base_load_a=None if base is None else tuple(base[:length]),
        price_per_kwh=None if price is None else tuple(price[:length]),
        phase_limit_a=None if limit is None else tuple(limit[:length]),
        peak_price_per_kw=peak,
    )
    if _horizon_passes(horizon):
        assert not _walk_rejects(_check_horizon, horizon)


def _error_of(check: object, *args: object) -> tuple[str, str] | None:
    try:
        check(*args)  # type: ignore[operator]
    except ProblemError as error:
        return (error.subject, error.field)
    return None


@SETTINGS
@given(connectors())
def test_validate_raises_what_the_walk_raises(sessions: tuple[Connector, ...]) -> None:
    problem = Problem(site=SiteLimits(32.0), connectors=sessions, circuits=CIRCUITS)
    try:
        expected = _error_of(_check_connectors, sessions, {"c1"})
    except (TypeError, ValueError, OverflowError, AttributeError):
        return
    assert _error_of(validate, problem) == expected
