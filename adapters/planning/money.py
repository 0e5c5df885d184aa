"""What the dry-run's plan weighed besides the limits: the price per period, the demand
charge and the peak it plans against, the surplus it expects (see `optimizer.lookahead`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.clock import iso_utc
from optimizer.problem import Lookahead

W_PER_KW = 1000.0


@dataclass(frozen=True)
class MoneyPlan:
    """`prices`: (from, price per kWh) over the plan; `peak_cap_kw`: the billing period's
    peak so far, below which the plan draws at no demand charge (above it each kW costs
    `demand_charge_per_kw`); `base_import`: (from, kW) the site imports besides the
    steered sessions, negative while PV exports."""

    prices: tuple[tuple[datetime, float], ...]
    demand_charge_per_kw: float
    peak_cap_kw: float
    export_price_per_kwh: float
    base_import: tuple[tuple[datetime, float], ...]


def money_plan(lookahead: Lookahead | None) -> MoneyPlan | None:
    """The money of the step's look-ahead; None when it weighed none."""
    if lookahead is None or not lookahead.has_money:
        return None
    return MoneyPlan(
        prices=tuple((p.start, p.price_per_kwh) for p in lookahead.prices),
        demand_charge_per_kw=lookahead.peak_price_per_kw,
        peak_cap_kw=lookahead.peak_so_far_w / W_PER_KW,
        export_price_per_kwh=lookahead.export_price_per_kwh,
        base_import=tuple((p.start, p.power_w / W_PER_KW) for p in lookahead.base_import),
    )


def money_lines(plan: MoneyPlan) -> list[str]:
    """The plan's money as lines a person reads."""
    lines = ["Money the plan weighed after every limit and every need by its departure:"]
    for start, price in plan.prices:
        lines.append(f"  from {iso_utc(start)}: {price:.4f} per kWh")
    if plan.demand_charge_per_kw > 0.0:
        lines.append(
            f"  demand charge {plan.demand_charge_per_kw:g} per kW above the billing "
            f"period's peak so far, {plan.peak_cap_kw:.1f} kW: the plan draws up to it freely"
        )
    if plan.export_price_per_kwh:
        lines.append(f"  feed-in {plan.export_price_per_kwh:.4f} per kWh")
    for start, import_kw in plan.base_import:
        lines.append(
            f"  site besides the steered sessions from {iso_utc(start)}: {import_kw:.1f} kW"
        )
    lines.append(
        "  sessions with a need and a departure charge in the cheapest periods that still "
        "meet the need 30 minutes before they leave; the others keep their fair share"
    )
    return lines


def money_document(plan: MoneyPlan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {
        "prices": [{"from": iso_utc(s), "price_per_kwh": p} for s, p in plan.prices],
        "demand_charge_per_kw": plan.demand_charge_per_kw,
        "peak_cap_kw": round(plan.peak_cap_kw, 3),
        "export_price_per_kwh": plan.export_price_per_kwh,
        "base_import": [{"from": iso_utc(s), "kw": round(k, 3)} for s, k in plan.base_import],
    }
