"""The numbers of the LP for one control step: bounds, right-hand sides, costs.

The objective is ranked by well-separated weights, per phase-amp-step (1 A on one phase
for one step):

1. limits: hard rows; the semi-continuous minimum is fixed by `admission` beforehand;
2. fairness: the leximin shares from `fairness` are hard lower bounds per step; a
   session with an energy need (with a horizon) instead gets the energy its fair shares
   would deliver, capped by its need, as a lower bound on its energy over the window,
   so the LP may choose *when* it charges;
3. delivered energy: reward 1 (the leftover any fairness bound leaves is filled);
4. money (energy price × kWh, plus demand charge × peak kW), scaled so that the most
   expensive phase-amp-step costs `MONEY_WEIGHT` < 1: energy always wins over price;
5. earlier rather than later: a bonus falling from `EARLY_WEIGHT` at the first step to 0
   at the last (price differences smaller than this share of the highest price lose
   against it);
6. small changes from the previous allocation at the first step: `CHANGE_WEIGHT` per A.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from optimizer.admission import Admission
from optimizer.fairness import fair_shares
from optimizer.layout import Layout
from optimizer.parameters import SECONDS_PER_HOUR, BoolArray, FloatArray, Parameters

MONEY_WEIGHT = 0.5
EARLY_WEIGHT = 1e-2
CHANGE_WEIGHT = 1e-5
WH_PER_KWH = 1000.0
W_PER_KW = 1000.0
MIN_MONEY_SCALE = 1e-9
"""Below this largest money per phase-ampere (and step) the prices carry no signal: they
are left out rather than scaled up by dividing by them, which overflows to inf (and NaN
costs) for prices near zero."""


@dataclass(frozen=True)
class LpData:
    """Everything that changes between solves of one model shape."""

    current_lb: FloatArray
    """(T, N) per-phase current lower bound."""
    current_ub: FloatArray
    draws: FloatArray
    """(N, 3) coefficient of the connector's current in each site phase's rows."""
    phase_count: FloatArray
    """(N,) coefficient in the power, peak and energy rows."""
    row_rhs: FloatArray
    """(T, K) site phase, circuit phase and power rows (see Layout)."""
    peak_rhs: FloatArray
    """(T,) minus the base load in phase-amps: peak >= base + allocations."""
    energy_lo: FloatArray
    """(N,) phase-amp-steps each session must get over the horizon."""
    energy_hi: FloatArray
    previous_a: FloatArray
    """(N,) previous allocation (0 where unknown; its change cost is then 0)."""
    current_cost: FloatArray
    """(T, N) objective coefficient of each current (minimised)."""
    peak_cost: float
    change_cost: FloatArray
    """(N,) objective coefficient of the change from the previous allocation."""


def infeasible_steps(params: Parameters) -> list[int]:
    """Steps where base load alone already exceeds a site row (phase or power cap)."""
    steps: list[int] = np.asarray((params.row_rhs < 0.0).any(axis=1)).nonzero()[0].tolist()
    return steps


def current_bounds(params: Parameters, admission: Admission) -> tuple[FloatArray, FloatArray]:
    """(T, N) lower and upper current: the minimum binds at the first step only.

    Later steps are a plan that is re-solved before it is applied, so they are the LP
    relaxation (0 to the maximum while the EV is present and its need is not met).
    """
    can_charge = params.window & ~params.need_met & (params.cap_a >= params.min_a)
    upper = np.where(can_charge, params.cap_a, 0.0)
    upper[0] = np.where(admission.admitted, params.cap_a, 0.0)
    lower = np.zeros(upper.shape)
    lower[0] = np.where(admission.admitted, params.min_a, 0.0)
    return lower, upper


def _costs(layout: Layout, params: Parameters) -> tuple[FloatArray, float]:
    steps = layout.steps
    n = params.phase_count
    earliness = EARLY_WEIGHT * (steps - 1 - np.arange(steps)) / max(steps - 1, 1)
    cost = -(1.0 + earliness)[:, None] * n[None, :]
    kwh_per_phase_amp_step = params.voltage_v * params.step_s / SECONDS_PER_HOUR / WH_PER_KWH
    price = params.price_per_kwh if params.price_per_kwh is not None else np.zeros(steps)
    peak_price = params.peak_price_per_kw or 0.0
    kw_per_phase_amp = params.voltage_v / W_PER_KW
    scale = float(np.abs(price).max(initial=0.0)) * kwh_per_phase_amp_step
    scale += peak_price * kw_per_phase_amp
    if scale <= MIN_MONEY_SCALE:
        return cost, 0.0
    money = MONEY_WEIGHT / scale
    cost += money * (price * kwh_per_phase_amp_step)[:, None] * n[None, :]
    return cost, money * peak_price * kw_per_phase_amp


@dataclass(frozen=True)
class FairNow:
    """What `lp_data_of` (without a floor) gives each connector at least now, `now_a`
    (N,), and the fair shares `shares_a` (T, N) it was read from, None where none was
    needed: handed back to `lp_data_of`, which would otherwise compute them again when
    no plan for now replaces them."""

    now_a: FloatArray
    shares_a: FloatArray | None


def fair_now(params: Parameters, rows: FloatArray, admission: Admission) -> FairNow:
    """What `lp_data_of` (without a floor) gives each connector at least now
    (`current_lb[0]`): the admitted minimum to a session with an energy need, the fair
    share to one without. The look-ahead starts from these before it is known whether the
    rest of those numbers is needed; the fair shares (the costliest part) are computed
    only where a connector without a need can get more than its lower bound."""
    lower, upper = current_bounds(params, admission)
    has_need = np.isfinite(params.need_phase_amp_steps)
    if not (upper[0] > lower[0])[~has_need].any():
        return FairNow(np.array(lower[0], dtype=np.float64), None)
    share_upper = _share_upper(params, lower, upper, has_need)
    shares = fair_shares(rows, params.row_rhs, lower, share_upper, params.weight)
    return FairNow(np.asarray(np.where(has_need, lower[0], shares[0]), dtype=np.float64), shares)


def _share_upper(
    params: Parameters, lower: FloatArray, upper: FloatArray, has_need: BoolArray
) -> FloatArray:
    """(T, N) the most a fair share may be: the upper bound, or the current that meets
    the need within one step if less (but not below the lower bound)."""
    n = params.phase_count
    need = params.need_phase_amp_steps
    per_step_need_a = np.where(has_need, need / np.maximum(n, 1.0), math.inf)
    return np.asarray(np.minimum(upper, np.maximum(lower, per_step_need_a[None, :])))


def lp_data_of(
    layout: Layout,
    params: Parameters,
    rows: FloatArray,
    admission: Admission,
    floor_a: FloatArray | None = None,
    ceiling_a: FloatArray | None = None,
    shares_a: FloatArray | None = None,
) -> LpData:
    """LP numbers for a problem whose base load fits (see `infeasible_steps`).

    `floor_a` (T, N), when given, replaces the fair shares as the lower bounds (the
    look-ahead's plan, see `optimizer.lookahead`); `ceiling_a` (N,) lowers the upper
    bounds of the first step (a plan that weighed money is not topped up); `shares_a`
    (T, N) are the fair shares when `fair_now` computed them already.
    """
    lower, upper = current_bounds(params, admission)
    if ceiling_a is not None:
        upper[0] = np.minimum(upper[0], np.maximum(ceiling_a, lower[0]))
    n = params.phase_count
    need = params.need_phase_amp_steps
    has_need = np.isfinite(need)
    if floor_a is not None:
        shares = floor_a
    elif shares_a is not None:
        shares = shares_a
    else:
        share_upper = _share_upper(params, lower, upper, has_need)
        shares = fair_shares(rows, params.row_rhs, lower, share_upper, params.weight)

    current_lb = np.where(has_need[None, :], lower, shares)
    fair_energy = (shares * n[None, :]).sum(axis=0)
    energy_lo = np.where(has_need, np.minimum(need, fair_energy), 0.0)
    energy_hi = np.where(has_need, np.maximum(need, (lower * n[None, :]).sum(axis=0)), math.inf)

    current_cost, peak_cost = _costs(layout, params)
    known = np.isfinite(params.previous_a)
    return LpData(
        current_lb=current_lb,
        current_ub=upper,
        draws=params.draws,
        phase_count=n,
        row_rhs=params.row_rhs,
        peak_rhs=-params.base_a.sum(axis=1),
        energy_lo=energy_lo,
        energy_hi=energy_hi,
        previous_a=np.where(known, params.previous_a, 0.0),
        current_cost=current_cost,
        peak_cost=peak_cost,
        change_cost=np.where(known, CHANGE_WEIGHT, 0.0),
    )
