"""The oracle for `optimizer.fairness`: water-filling one row event at a time.

This is the optimizer's former implementation, kept as the straightforward reference
with one fix: the fit test allows a rounding error (1e-9 relative). Without it, a full
row a rounding error over its limit made no breakpoint fit, and the common level fell
back to the lowest breakpoint, pulling connectors on other rows down with it.

Weighted max-min fair shares by progressive filling (water-filling), per step.

Every sharing connector c draws x_c = clip(w_c · z, lb_c, ub_c) for a common water level
z. The level rises until a row (a site phase, a circuit phase, the power cap) is full;
the connectors in that row are frozen where they are, and the level keeps rising for the
others. A connector whose own maximum is below the level stops at its maximum and does
not hold the others back. The result is the leximin allocation of the weighted shares
x_c / w_c: no share can grow without shrinking a share that is already smaller.

All rows have non-negative coefficients, so each row's load is non-decreasing and
piecewise linear in z, with breakpoints where a connector leaves its lower bound
(lb_c / w_c) or reaches its upper bound (ub_c / w_c). Each round finds, by binary search
over the breakpoints, the last one at which every row still fits; between it and the
next one every load is linear, so the level at which the first row fills is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.parameters import BoolArray, FloatArray

SATURATION_TOLERANCE = 1e-9


@dataclass(frozen=True)
class _Filling:
    """Connectors of the steps being filled: x_c(z) = clip(w_c z, lb_c, ub_c) if free."""

    weight: FloatArray
    lb: FloatArray
    ub: FloatArray
    fixed: FloatArray
    free: BoolArray

    def at(self, z: FloatArray) -> FloatArray:
        rising = np.clip(z[:, None] * self.weight[None, :], self.lb, self.ub)
        return np.where(self.free, rising, self.fixed)


def _fits(x: FloatArray, rows: FloatArray, rhs: FloatArray) -> BoolArray:
    """(T,) every row's load is within its right-hand side (up to rounding)."""
    slack = SATURATION_TOLERANCE * np.maximum(1.0, np.abs(rhs))
    return np.asarray((x @ rows.T <= rhs + slack).all(axis=1))


def _last_fitting_breakpoint(
    breakpoints: FloatArray,
    z: FloatArray,
    rows: FloatArray,
    rhs: FloatArray,
    filling: _Filling,
) -> tuple[FloatArray, FloatArray]:
    """Per step, the highest breakpoint >= z that fits (else z) and the next one (or inf)."""
    count = len(breakpoints)
    lo = np.full(len(z), -1)
    hi = np.full(len(z), count)
    while (hi - lo > 1).any():
        open_ = hi - lo > 1
        mid = (lo + hi) // 2
        level = np.maximum(breakpoints[np.clip(mid, 0, count - 1)], z)
        ok = _fits(filling.at(level), rows, rhs)
        lo = np.where(open_ & ok, mid, lo)
        hi = np.where(open_ & ~ok, mid, hi)
    z_lo = np.where(lo >= 0, np.maximum(breakpoints[np.clip(lo, 0, count - 1)], z), z)
    z_hi = np.where(hi < count, breakpoints[np.clip(hi, 0, count - 1)], np.inf)
    return z_lo, z_hi


def fair_shares(
    rows: FloatArray, rhs: FloatArray, lb: FloatArray, ub: FloatArray, weight: FloatArray
) -> FloatArray:
    """Leximin weighted shares per step.

    rows (K, N) coefficients, rhs (T, K), lb and ub (T, N) per-connector bounds with
    `rows @ lb[t] <= rhs[t]`, weight (N,) positive. Returns x (T, N) with lb <= x <= ub and
    `rows @ x[t] <= rhs[t]` (up to rounding).
    """
    ub = np.maximum(ub, lb)
    x = lb.copy()
    free = ub > lb
    z = np.zeros(x.shape[0])
    member = (rows > 0.0).astype(np.float64)
    while free.any():
        steps = np.flatnonzero(free.any(axis=1))
        low, high, fixed, open_ = lb[steps], ub[steps], x[steps], free[steps]
        filling = _Filling(weight, low, high, fixed, open_)
        starts, stops = low / weight, high / weight
        breakpoints = np.unique(np.concatenate([starts[open_], stops[open_]]))
        z_lo, z_hi = _last_fitting_breakpoint(breakpoints, z[steps], rows, rhs[steps], filling)

        rising = open_ & (starts <= z_lo[:, None]) & (z_lo[:, None] < stops)
        slope = (rising * weight[None, :]) @ rows.T
        headroom = rhs[steps] - filling.at(z_lo) @ rows.T
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(slope > 0.0, np.maximum(headroom, 0.0) / slope, np.inf)
        step_up = ratio.min(axis=1)
        level = np.minimum(z_lo + step_up, z_hi)
        capped = ~np.isfinite(level)
        level = np.where(capped, z_lo, level)
        x[steps] = filling.at(level)
        z[steps] = level

        full = ratio <= step_up[:, None] * (1.0 + SATURATION_TOLERANCE) + SATURATION_TOLERANCE
        blocked = (full & ~capped[:, None]).astype(np.float64) @ member > 0.0
        done = blocked | (x[steps] >= high) | capped[:, None]
        stalled = ~(done & open_).any(axis=1)
        done[stalled] = True
        free[steps] = open_ & ~done
    return x
