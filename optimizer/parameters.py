"""The numbers of a problem as numpy arrays, in the order of its Layout.

Everything that may change between control steps lives here; the model structure does
not. Currents are per phase (A); "phase-amps" (A summed over the phases a connector
draws on) is the unit of the power and energy rows, so the voltage stays out of the
constraint matrix: power_w = voltage_v × phase-amps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from optimizer.columns import ConnectorColumns
from optimizer.layout import PHASE_COUNT, Layout
from optimizer.problem import Phase, Problem

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SECONDS_PER_HOUR = 3600.0
NO_MINIMUM_BELOW_A = 1e-3
"""A minimum current below this is none. Chargers set currents in 0.1 A steps, and a
minimum within the solvers' tolerances of 0 cannot be told from 0: a plan at 0 counted as
charging at it, and was held above a limit of 0 (an infeasible LP, the fallback)."""


@dataclass(frozen=True)
class Parameters:
    """Per-connector (N), per-step (T) and per-row-template (K) numbers of one problem."""

    present: BoolArray
    """(N,) an EV is plugged in."""
    draws: FloatArray
    """(N, 3) 1.0 on the site phases the connector draws on (the EV's, else the wiring)."""
    phase_count: FloatArray
    """(N,) number of phases drawn on."""
    phases_seen: BoolArray
    """(N,) the EV's phases were observed (else `phase_count` is the connector's)."""
    cap_a: FloatArray
    """(N,) the lower of connector and EV maximum."""
    tapering: BoolArray
    """(N,) the EV was seen drawing clearly less than allowed (`Connector.ev_tapering`)."""
    min_a: FloatArray
    weight: FloatArray
    window: BoolArray
    """(T, N) the EV is present at this step (it has not departed yet)."""
    need_phase_amp_steps: FloatArray
    """(N,) remaining energy need in phase-amp-steps; inf without a need or a horizon."""
    need_met: BoolArray
    need_wh: FloatArray
    """(N,) remaining energy need in Wh; inf without a stated need."""
    latest_start_s: FloatArray
    """(N,) departure minus the time to deliver the need at full power (inf if unknown)."""
    departure_s: FloatArray
    arrival_s: FloatArray
    previous_a: FloatArray
    """(N,) previous allocation; NaN where unknown."""
    base_a: FloatArray
    """(T, 3) base load per phase."""
    row_rhs: FloatArray
    """(T, K) right-hand side of each per-step row template (see Layout)."""
    price_per_kwh: FloatArray | None
    peak_price_per_kw: float | None
    voltage_v: float
    step_s: float


KEPT = 64
"""Arrays kept per distinct input (`_timestamps`, `_draws`): a site's sessions keep their
arrivals, departures and phases from step to step, so the arrays repeat. They are read
only, as they are shared."""


@lru_cache(maxsize=8192)
def _seconds(moment: datetime) -> float:
    """POSIX seconds of an aware datetime; sessions keep theirs from step to step."""
    return moment.timestamp()


@lru_cache(maxsize=KEPT)
def _timestamps(moments: tuple[datetime | None, ...]) -> FloatArray:
    return _read_only(
        np.asarray([math.inf if m is None else _seconds(m) for m in moments], dtype=np.float64)
    )


def _read_only(array: FloatArray) -> FloatArray:
    array.flags.writeable = False
    return array


def _optional(values: tuple[float | None, ...], missing: float) -> FloatArray:
    return np.asarray([missing if v is None else v for v in values], dtype=np.float64)


@lru_cache(maxsize=64)
def _draw_row(phases: tuple[Phase, ...]) -> tuple[float, ...]:
    return tuple(1.0 if phase in phases else 0.0 for phase in Phase)


def _draws(columns: ConnectorColumns) -> FloatArray:
    """(N, 3) 1.0 on the phases each connector draws on: the EV's if present, else its own."""
    try:
        return _kept_draws(columns.phases, columns.ev_present, columns.ev_phases)
    except TypeError:  # phases given as lists, which cannot be looked up
        return _draws_of(columns.phases, columns.ev_present, columns.ev_phases)


@lru_cache(maxsize=KEPT)
def _kept_draws(
    phases: tuple[tuple[Phase, ...], ...],
    present: tuple[bool, ...],
    ev_phases: tuple[tuple[Phase, ...] | None, ...],
) -> FloatArray:
    return _read_only(_draws_of(phases, present, ev_phases))


def _draws_of(
    phases: tuple[tuple[Phase, ...], ...],
    present: tuple[bool, ...],
    ev_phases: tuple[tuple[Phase, ...] | None, ...],
) -> FloatArray:
    rows = [
        _draw_row(tuple(ev if here and ev is not None else wiring))
        for wiring, here, ev in zip(phases, present, ev_phases, strict=True)
    ]
    return np.asarray(rows, dtype=np.float64).reshape(-1, PHASE_COUNT)


def _window(problem: Problem, steps: int, departure_s: FloatArray, present: BoolArray) -> BoolArray:
    horizon = problem.horizon
    window = present[None, :].repeat(steps, axis=0)
    if horizon is not None and steps > 1:
        starts = horizon.start.timestamp() + horizon.step_s * np.arange(steps, dtype=np.float64)
        window[1:] &= starts[1:, None] < departure_s[None, :]
    return window


def _row_rhs(problem: Problem, layout: Layout, base_a: FloatArray) -> FloatArray:
    horizon = problem.horizon
    steps = layout.steps
    limits = np.full(steps, problem.site.phase_limit_a, dtype=np.float64)
    if horizon is not None and horizon.phase_limit_a is not None:
        limits = np.asarray(horizon.phase_limit_a, dtype=np.float64)
    rhs = np.empty((steps, layout.n_row_templates), dtype=np.float64)
    rhs[:, :PHASE_COUNT] = limits[:, None] - base_a
    circuit_limits = np.asarray([c.limit_a for c in problem.circuits], dtype=np.float64)
    n_circuit_rows = PHASE_COUNT * len(circuit_limits)
    rhs[:, PHASE_COUNT : PHASE_COUNT + n_circuit_rows] = circuit_limits.repeat(PHASE_COUNT)
    if layout.has_power_cap:
        assert problem.site.power_limit_w is not None
        power_phase_amps = problem.site.power_limit_w / problem.site.voltage_v
        rhs[:, -1] = power_phase_amps - base_a.sum(axis=1)
    return rhs


def parameters_of(problem: Problem, layout: Layout, columns: ConnectorColumns) -> Parameters:
    """The numbers of a validated problem whose shape is `layout`, connectors in `columns`."""
    horizon = problem.horizon
    steps = layout.steps
    voltage = problem.site.voltage_v
    step_s = horizon.step_s if horizon is not None else 0.0

    present = np.asarray(columns.ev_present, dtype=bool)
    draws = _draws(columns)
    phase_count = draws.sum(axis=1)
    cap = np.minimum(
        np.asarray(columns.max_current_a, dtype=np.float64),
        _optional(columns.ev_max_current_a, math.inf),
    )
    need_wh = _optional(columns.energy_need_wh, math.inf)
    departure_s = _timestamps(columns.departure)
    full_power_w = np.maximum(cap * phase_count * voltage, 1e-9)
    with np.errstate(invalid="ignore"):
        latest_start = departure_s - np.where(
            np.isfinite(need_wh), need_wh / full_power_w * SECONDS_PER_HOUR, 0.0
        )
    if horizon is not None:
        need_phase_amp_steps = need_wh / (voltage * step_s / SECONDS_PER_HOUR)
    else:
        need_phase_amp_steps = np.full(len(columns), math.inf)

    base = np.asarray([problem.base_load_a] * steps, dtype=np.float64).reshape(steps, 3)
    if horizon is not None and horizon.base_load_a is not None:
        base = np.asarray(horizon.base_load_a, dtype=np.float64).reshape(steps, 3)

    return Parameters(
        present=present,
        draws=draws,
        phase_count=phase_count,
        phases_seen=np.asarray([p is not None for p in columns.ev_phases], dtype=bool),
        cap_a=cap,
        tapering=np.asarray(columns.ev_tapering, dtype=bool),
        min_a=_minimums(columns.min_current_a),
        weight=np.asarray(columns.priority, dtype=np.float64),
        window=_window(problem, steps, departure_s, present),
        need_phase_amp_steps=need_phase_amp_steps,
        need_met=need_wh <= 0.0,
        need_wh=need_wh,
        latest_start_s=latest_start,
        departure_s=departure_s,
        arrival_s=_timestamps(columns.arrival),
        previous_a=_optional(columns.previous_current_a, math.nan),
        base_a=base,
        row_rhs=_row_rhs(problem, layout, base),
        price_per_kwh=(
            np.asarray(horizon.price_per_kwh, dtype=np.float64)
            if horizon is not None and horizon.price_per_kwh is not None
            else None
        ),
        peak_price_per_kw=horizon.peak_price_per_kw if horizon is not None else None,
        voltage_v=voltage,
        step_s=step_s,
    )


def row_matrix(layout: Layout, params: Parameters, member: BoolArray) -> FloatArray:
    """(K, N) coefficients of each connector's per-phase current in each row template."""
    draws_t = params.draws.T
    rows = [draws_t]
    if len(layout.circuit_ids):
        circuit = member[:, None, :] * draws_t[None, :, :]
        rows.append(circuit.reshape(-1, layout.n_connectors))
    if layout.has_power_cap:
        rows.append(params.phase_count[None, :])
    return np.concatenate(rows, axis=0)


def _minimums(min_current_a: tuple[float, ...]) -> FloatArray:
    minimums = np.asarray(min_current_a, dtype=np.float64)
    return np.where(minimums < NO_MINIMUM_BELOW_A, 0.0, minimums)
