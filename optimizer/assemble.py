"""Turn per-phase currents (T, N) into the plain-data Allocation, with bottleneck names."""

from __future__ import annotations

from functools import lru_cache
from itertools import compress, repeat

import numpy as np

from optimizer.admission import Admission
from optimizer.allocation import (
    Allocation,
    ConnectorAllocation,
    ConnectorState,
    PauseReason,
    SolveStatus,
)
from optimizer.layout import PHASE_COUNT, Layout
from optimizer.parameters import NO_MINIMUM_BELOW_A, FloatArray, Parameters

BINDING_TOLERANCE = 1e-6
NOISE_A = 1e-9

# Products of the (T, N) arrays use einsum, not `@`: numpy's BLAS spreads a large enough
# matrix product over threads, and waking them on a busy host can cost milliseconds.


def row_names(layout: Layout) -> list[str]:
    """Names of the per-step row templates, in Layout order."""
    names = [f"site-L{p + 1}" for p in range(PHASE_COUNT)]
    names += [f"circuit-{cid}-L{p + 1}" for cid in layout.circuit_ids for p in range(PHASE_COUNT)]
    if layout.has_power_cap:
        names.append("site-power")
    return names


def binding_names(
    layout: Layout, params: Parameters, rows: FloatArray, current: FloatArray
) -> tuple[str, ...]:
    """Constraints at their limit in the first step, plus energy needs met over the horizon."""
    now = current[0]
    rhs = params.row_rhs[0]
    load = np.einsum("kn,n->k", rows, now)
    has_member = (rows > 0.0).any(axis=1)
    full = has_member & (load >= rhs - BINDING_TOLERANCE * np.maximum(1.0, np.abs(rhs)))
    names = list(compress(row_names(layout), full.tolist()))
    at_max = (now > 0.0) & (now >= params.cap_a - BINDING_TOLERANCE)
    ids = layout.connector_ids
    names += [f"connector-{ids[c]}-max" for c in at_max.nonzero()[0].tolist()]
    if layout.has_horizon:
        energy = (current * params.phase_count[None, :]).sum(axis=0)
        need = params.need_phase_amp_steps
        met = np.isfinite(need) & (energy > 0.0) & (energy >= need - BINDING_TOLERANCE)
        names += [f"connector-{ids[c]}-energy" for c in met.nonzero()[0].tolist()]
    return tuple(names)


def clean(current: FloatArray, upper: FloatArray) -> FloatArray:
    """Clip solver noise: nothing below 0 or above the bound, nothing that is ~0."""
    result = np.minimum(np.maximum(current, 0.0), upper)  # np.clip, at a fraction of its cost
    result[result < NOISE_A] = 0.0
    return result


def below_minimum_to_zero(current: FloatArray, min_a: FloatArray) -> FloatArray:
    """Every current between 0 and the session's minimum set to 0, at every step: an EV
    cannot charge there (IEC 61851), so such a current would only print as a limit no
    charger can follow.

    The bounds do not keep the rule everywhere: a horizon's later steps are the LP
    relaxation (0 up to the maximum), and a minimum below `NO_MINIMUM_BELOW_A` is none to
    the LP and the fallback, which then may give less than the session stated (a power cap
    of a few mW). So the rule is kept here, against at least `NO_MINIMUM_BELOW_A`: less
    than that is below every minimum dropped, and below what a charger can set.

    Lowering a current to 0 frees room and cannot break a limit; the plan is re-made at
    every step, so the energy those periods held is planned again then."""
    floor = np.maximum(min_a, NO_MINIMUM_BELOW_A) - BINDING_TOLERANCE
    below = (current > 0.0) & (current < floor[None, :])
    if not below.any():
        return current
    return np.where(below, 0.0, current)


_IDLE = ConnectorState.IDLE
_CHARGING = ConnectorState.CHARGING
_PAUSED = ConnectorState.PAUSED


def _states(params: Parameters, admission: Admission) -> list[ConnectorState]:
    return [
        _IDLE if not present else _CHARGING if reason is None else _PAUSED
        for present, reason in zip(params.present.tolist(), admission.reasons, strict=True)
    ]


@lru_cache(maxsize=4096)
def _nothing(
    connector_id: str, steps: int, state: ConnectorState, reason: PauseReason | None
) -> ConnectorAllocation:
    """The allocation of a connector that gets nothing over `steps` steps. Most connectors
    get nothing at most steps (no EV, or one paused), and the allocation is immutable, so
    one is made per connector and kept."""
    zeros = (0.0,) * steps
    return ConnectorAllocation(
        connector_id, zeros, ((0.0, 0.0, 0.0),) * steps, zeros, state, reason
    )


def allocation_of(
    layout: Layout,
    params: Parameters,
    admission: Admission,
    current: FloatArray,
    status: SolveStatus,
    binding: tuple[str, ...],
    solve_ms: float,
) -> Allocation:
    """current (T, N) per-phase currents, already within bounds.

    The tuples are built in bulk: one `tolist` per array, and a connector's per-phase
    triples are zipped from its own current series (or zeros on phases it does not draw
    on), since its current on a phase is its per-phase current times 1 or 0. Every
    connector starts as the kept allocation of one that gets nothing (`_nothing`), and
    only those that get something over the horizon are built.
    """
    steps = current.shape[0]
    by_connector = current.T
    site = params.base_a + np.einsum("tn,np->tp", current, params.draws)
    ids, reasons = layout.connector_ids, admission.reasons
    states = _states(params, admission)
    connectors = list(map(_nothing, ids, repeat(steps), states, reasons))
    live: list[int] = np.asarray(by_connector.any(axis=1)).nonzero()[0].tolist()
    if live:
        series_of = by_connector.tolist()
        powers = (by_connector * (params.phase_count * params.voltage_v)[:, None]).tolist()
        draws_on = (params.draws > 0.0).tolist()
        zeros = (0.0,) * steps
        for c in live:
            current_a, on = tuple(series_of[c]), draws_on[c]
            phase_current_a = tuple(
                zip(
                    current_a if on[0] else zeros,
                    current_a if on[1] else zeros,
                    current_a if on[2] else zeros,
                    strict=True,
                )
            )
            connectors[c] = ConnectorAllocation(
                ids[c], current_a, phase_current_a, tuple(powers[c]), states[c], reasons[c]
            )
    return Allocation(
        status=status,
        connectors=tuple(connectors),
        binding=binding,
        solve_ms=solve_ms,
        site_current_a=tuple(zip(*site.T.tolist(), strict=True)),
    )
