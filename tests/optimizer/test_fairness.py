"""Merged-round water-filling against the one-row-at-a-time reference.

The reference lets a row exceed its limit by its fit tolerance (1e-9 relative), so the
two agree to that order, not to the last bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from optimizer.fairness import fair_shares
from tests.optimizer.reference_fairness import fair_shares as reference_shares

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def fillings(
    draw: st.DrawFn,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    """rows (K, N), rhs (T, K), lb, ub (T, N), weight (N,) with the lower bounds fitting."""
    steps, n, k = draw(st.integers(1, 3)), draw(st.integers(1, 10)), draw(st.integers(1, 8))
    coefficient = st.sampled_from([0.0, 0.0, 1.0, 1.0, 2.0, 3.0])
    rows = draw(hnp.arrays(np.float64, (k, n), elements=coefficient))
    amps = st.floats(0.0, 32.0)
    lb = draw(hnp.arrays(np.float64, (steps, n), elements=st.sampled_from([0.0, 0.0, 6.0]) | amps))
    extra = draw(hnp.arrays(np.float64, (steps, n), elements=st.sampled_from([0.0]) | amps))
    headroom = draw(hnp.arrays(np.float64, (steps, k), elements=st.sampled_from([0.0]) | amps))
    weight = draw(hnp.arrays(np.float64, (n,), elements=st.sampled_from([1.0, 2.0, 0.7, 1.3])))
    rhs = lb @ rows.T + 2.0 * headroom
    return rows, rhs, lb, lb + extra, weight


@SETTINGS
@given(fillings())
def test_merged_rounds_match_the_reference(
    case: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],  # type: ignore[type-arg]
) -> None:
    rows, rhs, lb, ub, weight = case
    expected = reference_shares(rows, rhs, lb, ub, weight)
    np.testing.assert_allclose(fair_shares(rows, rhs, lb, ub, weight), expected, atol=1e-7)


def test_many_circuits_fill_in_a_few_rounds_like_one_at_a_time() -> None:
    rng = np.random.default_rng(3)
    n, circuits, steps = 200, 10, 4
    draws = np.zeros((n, 3))
    for c in range(n):
        draws[c, rng.choice(3, size=rng.choice([1, 3]), replace=False)] = 1.0
    member = np.arange(n)[None, :] // (n // circuits) == np.arange(circuits)[:, None]
    rows = np.concatenate([draws.T, (member[:, None, :] * draws.T[None]).reshape(-1, n)])
    rhs = np.tile(
        np.concatenate([[900.0, 950.0, 1000.0], np.full(3 * circuits, 120.0)]), (steps, 1)
    )
    lb = np.where(rng.random((steps, n)) < 0.3, 6.0, 0.0)
    ub = lb + rng.choice([10.0, 16.0, 32.0], size=(steps, n))
    weight = rng.choice([1.0, 2.0], size=n)
    expected = reference_shares(rows, rhs, lb, ub, weight)
    np.testing.assert_allclose(fair_shares(rows, rhs, lb, ub, weight), expected, atol=1e-7)


def test_a_full_row_a_rounding_error_over_does_not_pull_other_connectors_down() -> None:
    """Hand-checkable: connector 2 is in no row that fills, so it gets its maximum.

    Step 1: connectors 0 and 1 (weight 0.7) fill row 0 at level 4.0816...; their loads
    then sum to a rounding error above 11.4287. Connector 2 rises on alone to its 16 A.
    """
    rows = np.array([[2.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
    rhs = np.array([[11.4287, 47.4806], [11.4287, 47.4806]])
    lb = np.zeros((2, 3))
    ub = np.array([[9.9823, 10.2085, 16.3022], [9.9823, 10.2085, 16.3022]])
    weight = np.array([0.7, 0.7, 1.0])
    shares = fair_shares(rows, rhs, lb, ub, weight)
    assert shares[:, :2] == pytest.approx(np.full((2, 2), 11.4287 / 4.0))
    assert shares[:, 2] == pytest.approx([16.3022, 16.3022])
