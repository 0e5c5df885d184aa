"""The numbers an engineer compares strategies by, computed from a replay result."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ems.replay.result import ReplayResult
from ems.replay.timeline import FloatArray
from ems.tariff import Tariff
from ems.tariff import energy_cost as energy_cost_of

SECONDS_PER_HOUR = 3600.0

VIOLATION_TOLERANCE_A = 0.01


@dataclass(frozen=True)
class Kpis:
    """Energies in kWh, power in kW, currents in A per phase.

    `cost` is the charging energy priced per step (None without prices); `jain_fairness`
    is Jain's index over the sessions' delivered/requested ratios (1 = perfectly even);
    `profile_changes` counts changes of a plugged-in connector's allowed current, each of
    which a charger receives as a profile; `limit_violation_kwh` is the energy drawn above
    the site phase limits (summed over phases), the power cap and every circuit's phase
    limits, `limit_violation_steps` the steps above any of them; `circuit_violation_steps`
    and `circuit_violation_kwh` are the circuits' part of these;
    `optimizer_fallback_steps` counts the controller's steps on the optimizer's safe
    fallback instead of its optimum (always 0 for the other strategies; above 0 is worth a
    look: a base load above the limit, or a solver failure).

    The site's bill (None without a tariff): `energy_cost` is the whole site's import at
    its price less its export at the feed-in price; `peak_import_kw` the highest average
    import over a demand window (15 minutes unless the tariff says otherwise; the scenario
    is one billing period), `demand_charge` its price; `total_cost` the two together.
    `export_kwh` is what the site fed in; `pv_self_consumption_pct` the share of the PV's
    production used on site (None without PV).
    """

    energy_requested_kwh: float
    energy_delivered_kwh: float
    energy_delivered_pct: float
    sessions_total: int
    sessions_fully_served: int
    peak_site_power_kw: float
    peak_phase_current_a: float
    limit_violation_steps: int
    limit_violation_kwh: float
    cost: float | None
    jain_fairness: float
    profile_changes: int
    wall_seconds: float
    solve_ms_p50: float
    solve_ms_p95: float
    steps: int
    step_s: float
    optimizer_fallback_steps: int
    energy_cost: float | None = None
    peak_import_kw: float = 0.0
    demand_charge: float | None = None
    total_cost: float | None = None
    export_kwh: float = 0.0
    pv_self_consumption_pct: float | None = None
    circuit_violation_steps: int = 0
    circuit_violation_kwh: float = 0.0

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


@dataclass(frozen=True)
class _Bill:
    energy_cost: float | None
    peak_import_kw: float
    demand_charge: float | None
    total_cost: float | None
    export_kwh: float
    pv_self_consumption_pct: float | None


def _bill(result: ReplayResult, tariff: Tariff) -> _Bill:
    timeline = result.timeline
    hours = timeline.step_s / SECONDS_PER_HOUR
    net_w = result.site_current_a.sum(axis=1) * result.voltage_v
    import_kwh = np.clip(net_w, 0.0, None) * hours / 1000.0
    export_kwh = np.clip(-net_w, 0.0, None) * hours / 1000.0
    window_s = tariff.demand_window_s
    windows = np.floor(
        (timeline.start.timestamp() + timeline.step_s * np.arange(timeline.steps)) / window_s
    )
    _, group = np.unique(windows, return_inverse=True)
    window_kwh = np.bincount(group, weights=import_kwh)
    window_h = np.bincount(group) * hours
    peak_kw = float((window_kwh / window_h).max(initial=0.0))
    energy_cost: float | None = None
    if timeline.has_prices:
        price = np.nan_to_num(timeline.price_per_kwh)
        per_step = energy_cost_of(import_kwh, export_kwh, price, tariff.export_price_per_kwh)
        energy_cost = float(per_step.sum())
    demand: float | None = None
    if tariff.demand_price_per_kw > 0.0:
        demand = peak_kw * tariff.demand_price_per_kw
    total = (
        None if energy_cost is None and demand is None else (energy_cost or 0.0) + (demand or 0.0)
    )
    pv_kwh = float(timeline.pv_w.sum()) * hours / 1000.0
    self_pct = None
    if pv_kwh > 0.0:
        self_pct = round(100.0 * max(0.0, 1.0 - float(export_kwh.sum()) / pv_kwh), 3)
    return _Bill(
        energy_cost=None if energy_cost is None else round(energy_cost, 3),
        peak_import_kw=round(peak_kw, 3),
        demand_charge=None if demand is None else round(demand, 3),
        total_cost=None if total is None else round(total, 3),
        export_kwh=round(float(export_kwh.sum()), 3),
        pv_self_consumption_pct=self_pct,
    )


def compute_kpis(result: ReplayResult) -> Kpis:
    """The KPIs of a replay; the scenario's tariff prices the site's bill."""
    timeline = result.timeline
    hours = timeline.step_s / 3600.0
    voltage_v = result.voltage_v
    requested_wh = sum(s.requested_wh for s in result.sessions)
    delivered_wh = sum(s.delivered_wh for s in result.sessions)

    site_a = result.site_current_a
    site_power_w = site_a.sum(axis=1) * voltage_v
    over_phase_a = np.clip(site_a - timeline.phase_limit_a[:, None], 0.0, None)
    caps = timeline.power_limit_w
    over_power_w = np.where(np.isnan(caps), 0.0, np.clip(site_power_w - caps, 0.0, None))
    violating = (over_phase_a > VIOLATION_TOLERANCE_A).any(axis=1) | (
        over_power_w > VIOLATION_TOLERANCE_A * voltage_v
    )
    over_wh = (over_phase_a.sum(axis=1) * voltage_v + over_power_w) * hours
    over_wh = np.where(violating, over_wh, 0.0)
    over_circuit_a = _over_circuits(result)
    circuit_violating = over_circuit_a.max(axis=1) > VIOLATION_TOLERANCE_A
    circuit_wh = np.where(circuit_violating, over_circuit_a.sum(axis=1) * voltage_v * hours, 0.0)
    violating = violating | circuit_violating
    over_wh = over_wh + circuit_wh

    cost: float | None = None
    if timeline.has_prices:
        ev_kwh = result.connector_power_w.sum(axis=1) * hours / 1000.0
        cost = float(np.nansum(ev_kwh * timeline.price_per_kwh))

    ratios = np.array(
        [min(1.0, s.delivered_wh / s.requested_wh) for s in result.sessions if s.requested_wh > 0]
    )
    fairness = (
        float(ratios.sum() ** 2 / (len(ratios) * (ratios**2).sum()))
        if len(ratios) and (ratios**2).sum() > 0
        else 1.0
    )
    decide = np.array(result.decide_ms) if result.decide_ms else np.zeros(1)
    bill = _bill(result, result.tariff)
    return Kpis(
        energy_requested_kwh=round(requested_wh / 1000.0, 3),
        energy_delivered_kwh=round(delivered_wh / 1000.0, 3),
        energy_delivered_pct=round(100.0 * delivered_wh / requested_wh, 3)
        if requested_wh > 0
        else 100.0,
        sessions_total=len(result.sessions),
        sessions_fully_served=sum(s.fully_served for s in result.sessions),
        peak_site_power_kw=round(float(site_power_w.max()) / 1000.0, 3),
        peak_phase_current_a=round(float(site_a.max()), 3),
        limit_violation_steps=int(violating.sum()),
        limit_violation_kwh=round(float(over_wh.sum()) / 1000.0, 3),
        cost=None if cost is None else round(cost, 3),
        jain_fairness=round(fairness, 4),
        profile_changes=result.profile_changes,
        wall_seconds=round(result.wall_seconds, 3),
        solve_ms_p50=round(float(np.percentile(decide, 50)), 3),
        solve_ms_p95=round(float(np.percentile(decide, 95)), 3),
        steps=timeline.steps,
        optimizer_fallback_steps=result.fallback_steps,
        step_s=timeline.step_s,
        energy_cost=bill.energy_cost,
        peak_import_kw=bill.peak_import_kw,
        demand_charge=bill.demand_charge,
        total_cost=bill.total_cost,
        export_kwh=bill.export_kwh,
        pv_self_consumption_pct=bill.pv_self_consumption_pct,
        circuit_violation_steps=int(circuit_violating.sum()),
        circuit_violation_kwh=round(float(circuit_wh.sum()) / 1000.0, 3),
    )


def _over_circuits(result: ReplayResult) -> FloatArray:
    """(steps, circuits × 3) the current above each circuit's phase limit (0 where below);
    (steps, 1) of zeros for a site without circuits."""
    steps = result.site_current_a.shape[0]
    over = [
        np.clip(load - result.circuit_limit_a[circuit_id], 0.0, None)
        for circuit_id, load in result.circuit_current_a.items()
    ]
    return np.concatenate(over, axis=1) if over else np.zeros((steps, 1))
