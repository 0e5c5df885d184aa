"""Turn per-phase currents (T, N) into the plain-data Allocation, with bottleneck names."""

from __future__ import annotations

import numpy as np

from optimizer.admission import Admission
from optimizer.allocation import Allocation, ConnectorAllocation, ConnectorState, SolveStatus
from optimizer.layout import PHASE_COUNT, Layout
from optimizer.parameters import FloatArray, Parameters

BINDING_TOLERANCE = 1e-6
NOISE_A = 1e-9


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
    load = rows @ now
    has_member = (rows > 0.0).any(axis=1)
    full = has_member & (load >= rhs - BINDING_TOLERANCE * np.maximum(1.0, np.abs(rhs)))
    names = [name for name, hit in zip(row_names(layout), full, strict=True) if hit]
    at_max = (now > 0.0) & (now >= params.cap_a - BINDING_TOLERANCE)
    names += [
        f"connector-{cid}-max" for cid, hit in zip(layout.connector_ids, at_max, strict=True) if hit
    ]
    if layout.has_horizon:
        energy = (current * params.phase_count[None, :]).sum(axis=0)
        need = params.need_phase_amp_steps
        met = np.isfinite(need) & (energy > 0.0) & (energy >= need - BINDING_TOLERANCE)
        names += [
            f"connector-{cid}-energy"
            for cid, hit in zip(layout.connector_ids, met, strict=True)
            if hit
        ]
    return tuple(names)


def clean(current: FloatArray, upper: FloatArray) -> FloatArray:
    """Clip solver noise: nothing below 0 or above the bound, nothing that is ~0."""
    result = np.clip(current, 0.0, upper)
    result[result < NOISE_A] = 0.0
    return result


def allocation_of(
    layout: Layout,
    params: Parameters,
    admission: Admission,
    current: FloatArray,
    status: SolveStatus,
    binding: tuple[str, ...],
    solve_ms: float,
) -> Allocation:
    """current (T, N) per-phase currents, already within bounds."""
    phase_current = current.T[:, :, None] * params.draws[:, None, :]
    power = current.T * (params.phase_count * params.voltage_v)[:, None]
    site = params.base_a + phase_current.sum(axis=0)
    connectors = []
    for c, cid in enumerate(layout.connector_ids):
        reason = admission.reasons[c]
        if not params.present[c]:
            state = ConnectorState.IDLE
        elif reason is not None:
            state = ConnectorState.PAUSED
        else:
            state = ConnectorState.CHARGING
        connectors.append(
            ConnectorAllocation(
                connector_id=cid,
                current_a=tuple(current[:, c].tolist()),
                phase_current_a=tuple(map(tuple, phase_current[c].tolist())),
                power_w=tuple(power[c].tolist()),
                state=state,
                reason=reason,
            )
        )
    return Allocation(
        status=status,
        connectors=tuple(connectors),
        binding=binding,
        solve_ms=solve_ms,
        site_current_a=tuple(map(tuple, site.tolist())),
    )
