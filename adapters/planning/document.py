"""The dry-run as one JSON document (`ems plan --json`): stable keys, per-phase values as
`{"L1": .., "L2": .., "L3": ..}`, times as ISO 8601 UTC, nothing sent."""

from __future__ import annotations

from typing import Any

from adapters.clock import iso_utc
from adapters.planning.dry_run import DryRun
from adapters.planning.horizon import HorizonPlan
from adapters.planning.money import money_document
from adapters.planning.payloads import Payload
from adapters.planning.site_summary import SiteSummary, site_summary
from adapters.planning.why import session_why
from ems.fallback import LimitShare
from ems.view import ConnectorView
from optimizer.problem import Phase, PhaseTriple


def document(run: DryRun) -> dict[str, Any]:
    return {
        "dry_run": True,
        "sent": False,
        "at": iso_utc(run.now),
        "site": _site(site_summary(run)),
        "connectors": [_connector(c, run) for c in run.view.connectors],
        "fallbacks": _fallbacks(run),
        "chargers": [
            {
                "charger_id": t.charger_id,
                "protocol": t.protocol,
                "protocol_known": t.protocol_known,
                "online": t.online,
            }
            for t in run.targets.values()
        ],
        "payloads": [_payload(p) for p in run.payloads],
        "horizon": None if run.horizon is None else _horizon(run.horizon),
        "money": money_document(run.money),
        "grid_caps": [
            {
                "from": iso_utc(cap.start),
                "limit_a": cap.phase_limit_a,
                "power_limit_w": cap.power_limit_w,
            }
            for cap in run.caps
        ],
    }


def phases(values: PhaseTriple | None) -> dict[str, float] | None:
    if values is None:
        return None
    return {p.name: round(values[p], 3) for p in Phase}


def _site(summary: SiteSummary) -> dict[str, Any]:
    return {
        "name": summary.name,
        "limit_a": summary.limit_a,
        "power_limit_w": summary.power_limit_w,
        "voltage_v": summary.voltage_v,
        "mode": summary.mode,
        "mode_reason": summary.mode_reason,
        "meter_current_a": phases(summary.meter_current_a),
        "meter_age_s": summary.meter_age_s,
        "base_load_a": phases(summary.base_load_a),
        "reserved_a": phases(summary.reserved_a),
        "allowed_total_a": phases(summary.allowed_total_a),
        "headroom_a": phases(summary.headroom_a),
        "solve_status": summary.solve_status,
        "binding": list(summary.binding),
        "limit_reason": summary.limit_reason,
    }


def _connector(view: ConnectorView, run: DryRun) -> dict[str, Any]:
    voltage_v = run.site.limits.voltage_v
    return {
        "key": view.key,
        "charger_id": view.charger_id,
        "connector_id": view.connector_id,
        "status": view.status,
        "state": view.state,
        "transaction_id": view.transaction_id,
        "limit_a": view.limit_a,
        "allowed_a": phases(view.allowed_a),
        "power_w": round(sum(view.allowed_a) * voltage_v, 1),
        "drawn_a": phases(view.drawn_a),
        "reason": view.reason,
        "bottleneck": view.bottleneck,
        "fallback_a": view.fallback_a,
        "need_kwh": None if view.need_wh is None else round(view.need_wh / 1000.0, 3),
        "departure": None if view.departure is None else iso_utc(view.departure),
        "charging_mode": view.charging_mode,
        "why": session_why(view, run.money, run.now, voltage_v),
    }


def _fallbacks(run: DryRun) -> dict[str, Any]:
    limits = run.fallbacks.limits
    return {
        "connectors": dict(run.fallbacks.fallback_a),
        "limits": [_limit(limit) for limit in limits],
        "fits": all(limit.fits for limit in limits),
        "explanation": list(run.fallbacks.explanation),
    }


def _limit(limit: LimitShare) -> dict[str, Any]:
    return {
        "name": limit.name,
        "unit": "W" if limit.name == "site-power" else "A",
        "room": round(limit.room, 3),
        "members": list(limit.members),
        "total": round(limit.total, 3),
        "fits": limit.fits,
    }


def _payload(payload: Payload) -> dict[str, Any]:
    return {
        "charger_id": payload.charger_id,
        "protocol": payload.protocol,
        "action": payload.action,
        "connector_id": payload.connector_id,
        "purpose": payload.purpose.value,
        "profile_id": payload.profile_id,
        "reason": payload.reason,
        "sent": False,
        "payload": payload.payload,
        "error": payload.error,
    }


def _horizon(plan: HorizonPlan) -> dict[str, Any]:
    return {
        "start": iso_utc(plan.start),
        "step_s": plan.step_s,
        "steps": plan.steps,
        "step_starts": [iso_utc(plan.step_start(i)) for i in range(plan.steps)],
        "current_a": {key: list(values) for key, values in plan.current_a.items()},
        "departures": {key: iso_utc(at) for key, at in plan.departures.items()},
        "profiles": [_payload(p) for p in plan.profiles],
        "notes": list(plan.notes),
    }
