"""The hindsight problem as a flat Pyomo recipe, one function per constraint family.

Notation: pairs j of a session s(j) and a step k(j) it can charge in; x[j] its per-phase
current (A), e[j] the energy one ampere gives it then (Wh); rows r of the limits
(a site or circuit phase), each session drawing on the rows of its phases and nodes.

    max   sum_j (1 - w k(j)) e[j] x[j]                       (w: earlier_weight)
    s.t.  0 <= x[j] <= max[s]                                 current-max
          sum_{j of s} e[j] x[j] <= need[s]                    session-energy
          sum_{j on r at k} x[j] <= limit[r, k]                limit
          sum_{j at k} n[s] V x[j] <= headroom[k]              power (where capped)
          x[j] + a[s] taken[j] <= start[s]                     tail (sessions above
          taken[j+1] = taken[j] + e[j] x[j], taken[first] = 0       their taper start)

With the minimums (the MIP form, sessions with min > 0): on[j] in {0, 1}, done[s] in
{0, 1} and a shortfall u[j] >= 0 that lets the step the need is met in be drawn in part:

          x[j] <= max[s] on[j]                                 on-max
          x[j] >= min[s] on[j] - u[j]                          on-min
          sum_{j of s} u[j] <= min[s] done[s]                  shortfall
          sum_{j of s} e[j] x[j] >= need[s] done[s]            completes

A session falls short of its minimum by at most one minimum in all, and only if it gets
its whole need. An EV stops when full, so its last step may be drawn in part: this keeps
every plan an EV can draw (and a little more: the shortfall may be spread over steps) and
still cuts what the relaxation allows, such as two sessions sharing less than twice
their minimum.

Money (`OfflineMoney`) adds the import per step, the peak over the demand windows, a row
`keep-energy` (sum_j e[j] x[j] >= 0, raised to the first solve's energy before the
second) and a second, inactive objective `money_objective`: the import at its price
less the export at the feed-in price, plus the demand charge, plus a preference for
earlier (`MONEY_EARLIER_WEIGHT`). `solve` reads it into the HiGHS model's costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo

from optimizer.offline.problem import OfflineMoney, OfflineProblem

Model = Any
"""A pyomo ConcreteModel (Pyomo ships no type information)."""

MONEY_EARLIER_WEIGHT = 1e-9
"""Per step and Wh, the money objective's preference for earlier among equal costs."""


@dataclass(frozen=True)
class Pairs:
    """The (session, step) pairs in order: session i holds pairs `spans[i]`."""

    session: list[int]
    step: list[int]
    wh_per_a: list[float]
    spans: list[range]


def pairs_of(problem: OfflineProblem) -> Pairs:
    session: list[int] = []
    step: list[int] = []
    wh_per_a: list[float] = []
    spans: list[range] = []
    for i, s in enumerate(problem.sessions):
        count = len(s.wh_per_a)
        spans.append(range(len(step), len(step) + count))
        session.extend([i] * count)
        step.extend(range(s.first, s.first + count))
        wh_per_a.extend(s.wh_per_a.tolist())
    return Pairs(session, step, wh_per_a, spans)


def define_current_variables(m: Model, problem: OfflineProblem, pairs: Pairs) -> None:
    """current-max:  0 <= x[j] <= max[s(j)]."""
    maximum = [problem.sessions[i].max_a for i in pairs.session]
    m.J = pyo.RangeSet(0, len(pairs.step) - 1)
    m.x = pyo.Var(m.J, bounds=lambda _m, j: (0.0, maximum[j]))


def _energy(m: Model, pairs: Pairs, span: range) -> Any:
    e = pairs.wh_per_a
    return sum(e[j] * m.x[j] for j in span)


def define_energy_constraints(m: Model, problem: OfflineProblem, pairs: Pairs) -> None:
    """session-energy:  sum_{j of s} e[j] x[j] <= need[s]."""
    m.S = pyo.RangeSet(0, len(problem.sessions) - 1)
    m.session_energy = pyo.Constraint(
        m.S,
        rule=lambda m, i: _energy(m, pairs, pairs.spans[i]) <= problem.sessions[i].need_wh,
    )


def define_tail_constraints(m: Model, problem: OfflineProblem, pairs: Pairs) -> None:
    """tail:  x[j] + a[s] taken[j] <= start[s], the energy taken before the step growing
    by each step's energy from 0."""
    tailed = [j for i, s in enumerate(problem.sessions) if s.tail for j in pairs.spans[i]]
    m.tailed = pyo.Set(initialize=tailed, ordered=True)
    m.taken = pyo.Var(m.tailed, within=pyo.NonNegativeReals)
    e = pairs.wh_per_a

    def taken_rule(m: Model, j: int) -> Any:
        if j == pairs.spans[pairs.session[j]][0]:
            return m.taken[j] == 0.0
        return m.taken[j] == m.taken[j - 1] + e[j - 1] * m.x[j - 1]

    def tail_rule(m: Model, j: int) -> Any:
        tail = problem.sessions[pairs.session[j]].tail
        assert tail is not None
        return m.x[j] + tail.a_per_wh * m.taken[j] <= tail.start_a

    m.tail_taken = pyo.Constraint(m.tailed, rule=taken_rule)
    m.tail = pyo.Constraint(m.tailed, rule=tail_rule)


def define_limit_constraints(m: Model, problem: OfflineProblem, pairs: Pairs) -> None:
    """limit:  sum_{j on row r at step k} x[j] <= limit[r, k]."""
    members: dict[tuple[int, int], list[int]] = {}
    for j, (i, k) in enumerate(zip(pairs.session, pairs.step, strict=True)):
        for r in problem.sessions[i].rows:
            members.setdefault((r, k), []).append(j)
    limit = problem.row_limit_a
    m.limit = pyo.Constraint(
        sorted(members),
        rule=lambda m, r, k: sum(m.x[j] for j in members[r, k]) <= float(limit[r, k]),
    )


def define_power_constraints(m: Model, problem: OfflineProblem, pairs: Pairs) -> None:
    """power:  sum_{j at k} n[s(j)] V x[j] <= headroom[k], where the site has a cap."""
    headroom = problem.power_headroom_w
    members: dict[int, list[int]] = {}
    for j, k in enumerate(pairs.step):
        if not np.isnan(headroom[k]):
            members.setdefault(k, []).append(j)
    watts = [problem.sessions[i].phase_count * problem.voltage_v for i in pairs.session]
    m.power = pyo.Constraint(
        sorted(members),
        rule=lambda m, k: sum(watts[j] * m.x[j] for j in members[k]) <= float(headroom[k]),
    )


def define_minimum_constraints(m: Model, problem: OfflineProblem, pairs: Pairs) -> None:
    """on-max, on-min, shortfall and completes (see the module's docstring) for every
    session with a minimum; `m.on` and `m.done` hold the binaries."""
    sessions = problem.sessions
    bounded = [i for i, s in enumerate(sessions) if s.min_a > 0.0]
    chosen = [j for i in bounded for j in pairs.spans[i]]
    m.minimum_sessions = pyo.Set(initialize=bounded, ordered=True)
    m.chosen = pyo.Set(initialize=chosen, ordered=True)
    m.on = pyo.Var(m.chosen, domain=pyo.Binary)
    minimum = {j: sessions[pairs.session[j]].min_a for j in chosen}
    m.short = pyo.Var(m.chosen, bounds=lambda _m, j: (0.0, minimum[j]))
    m.done = pyo.Var(m.minimum_sessions, domain=pyo.Binary)
    m.on_max = pyo.Constraint(
        m.chosen, rule=lambda m, j: m.x[j] - sessions[pairs.session[j]].max_a * m.on[j] <= 0.0
    )
    m.on_min = pyo.Constraint(
        m.chosen, rule=lambda m, j: m.x[j] - minimum[j] * m.on[j] + m.short[j] >= 0.0
    )
    m.shortfall = pyo.Constraint(
        m.minimum_sessions,
        rule=lambda m, i: (
            sum(m.short[j] for j in pairs.spans[i]) - sessions[i].min_a * m.done[i] <= 0.0
        ),
    )
    m.completes = pyo.Constraint(
        m.minimum_sessions,
        rule=lambda m, i: (
            _energy(m, pairs, pairs.spans[i]) - sessions[i].need_wh * m.done[i] >= 0.0
        ),
    )


def define_energy_objective(m: Model, problem: OfflineProblem, pairs: Pairs) -> None:
    """max sum_j (1 - w k(j)) e[j] x[j]."""
    w = problem.earlier_weight
    e = pairs.wh_per_a
    m.objective = pyo.Objective(
        expr=sum((1.0 - w * k) * e[j] * m.x[j] for j, k in enumerate(pairs.step)),
        sense=pyo.maximize,
    )


def define_money(m: Model, money: OfflineMoney, steps: int, pairs: Pairs) -> None:
    """import[k] >= base[k] + sum_{j at k} e[j] x[j]; peak >= the average import over
    each demand window; keep-energy; and the inactive `money_objective` (in currency)."""
    e = pairs.wh_per_a
    ev_wh: list[Any] = [0.0] * steps
    for j, k in enumerate(pairs.step):
        ev_wh[k] = ev_wh[k] + e[j] * m.x[j]
    m.K = pyo.RangeSet(0, steps - 1)
    m.import_wh = pyo.Var(m.K, within=pyo.NonNegativeReals)
    m.net = pyo.Constraint(
        m.K, rule=lambda m, k: m.import_wh[k] - ev_wh[k] >= float(money.base_wh[k])
    )
    m.keep_energy = pyo.Constraint(expr=sum(e[j] * m.x[j] for j in range(len(e))) >= 0.0)
    cost: Any = 0.0
    export = money.export_price_per_kwh
    for k in range(steps):
        price = float(money.price_per_kwh[k])
        net_wh = float(money.base_wh[k]) + ev_wh[k]
        # export = import - net; the price of the export is earned
        cost += (price * m.import_wh[k] - export * (m.import_wh[k] - net_wh)) / 1000.0
    if money.demand_price_per_kw > 0.0:
        m.W = pyo.RangeSet(0, len(money.demand_windows) - 1)
        m.peak_w = pyo.Var(within=pyo.NonNegativeReals)
        windows = money.demand_windows
        m.peak = pyo.Constraint(
            m.W,
            rule=lambda m, w: (
                m.peak_w * len(windows[w]) * money.step_h - sum(m.import_wh[k] for k in windows[w])
                >= 0.0
            ),
        )
        cost += money.demand_price_per_kw * m.peak_w / 1000.0
    earlier = sum(MONEY_EARLIER_WEIGHT * k * e[j] * m.x[j] for j, k in enumerate(pairs.step))
    m.money_objective = pyo.Objective(expr=cost + earlier, sense=pyo.minimize)
    m.money_objective.deactivate()


def build_model(problem: OfflineProblem, pairs: Pairs, minimums: bool) -> Model:
    """The whole recipe; with `minimums` the MIP form, else the LP relaxation."""
    m = pyo.ConcreteModel(name="offline")
    define_current_variables(m, problem, pairs)
    define_energy_constraints(m, problem, pairs)
    define_tail_constraints(m, problem, pairs)
    define_limit_constraints(m, problem, pairs)
    define_power_constraints(m, problem, pairs)
    if minimums:
        define_minimum_constraints(m, problem, pairs)
    define_energy_objective(m, problem, pairs)
    if problem.money is not None:
        define_money(m, problem.money, problem.steps, pairs)
    return m
