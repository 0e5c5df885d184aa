"""The JSON documents of the status API, rendered from a snapshot.

Per-phase values are objects keyed `L1`, `L2`, `L3`; times are ISO 8601 UTC with `Z`;
unknown or non-finite numbers are `null` (JSON has no NaN).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from adapters.clock import iso_utc
from adapters.http.health import UNPROVEN_GRACE_S, assess
from adapters.http.history import LoadHistory
from adapters.http.snapshot import (
    AllocationSnapshot,
    ChargerSnapshot,
    ConnectorSnapshot,
    MoneySnapshot,
    SessionSnapshot,
    StatusSnapshot,
)

W_PER_KW = 1000.0

Document = dict[str, Any]
PHASES = ("L1", "L2", "L3")


def optional_iso_utc(at: datetime | None) -> str | None:
    return None if at is None else iso_utc(at)


def number(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value


def phases(values: Sequence[float | None]) -> dict[str, float | None]:
    return {phase: number(value) for phase, value in zip(PHASES, values, strict=True)}


def site_document(snapshot: StatusSnapshot) -> Document:
    site = snapshot.site
    return {
        "at": iso_utc(snapshot.at),
        "name": site.name,
        "limit_a": phases(site.limit_a),
        "configured_limit_a": number(site.configured_limit_a),
        "override_limit_a": number(site.override_limit_a),
        "limit_reason": site.limit_reason,
        "power_limit_w": number(site.power_limit_w),
        "current_a": phases(site.current_a),
        "base_load_a": phases(site.base_load_a),
        "net_import_w": number(site.net_import_w),
        "export_w": number(site.export_w),
        "pv_power_w": number(site.pv_power_w),
        "self_consumption_w": number(site.self_consumption_w),
        "mode": site.mode,
        "meter": {
            "age_s": number(site.meter_age_s),
            "valid": site.meter_valid,
            "reason": site.meter_reason,
            "stale_after_s": number(site.meter_stale_after_s),
        },
    }


def health_document(snapshot: StatusSnapshot) -> Document:
    site, controller = snapshot.site, snapshot.controller
    health = assess(snapshot)
    return {
        "at": iso_utc(snapshot.at),
        "ok": health.ok,
        "problems": list(health.problems),
        "mode": site.mode,
        "meter_age_s": number(site.meter_age_s),
        "meter_valid": site.meter_valid,
        "meter_reason": site.meter_reason,
        "last_proper_step_at": optional_iso_utc(controller.last_proper_step_at),
        "seconds_since_proper_step": number(controller.seconds_since_proper_step(snapshot.at)),
        "step_errors": snapshot.counters.step_errors,
        "fallback_steps": snapshot.counters.fallback_steps,
        "unproven": [u.key for u in controller.unproven],
        "held_raises": list(controller.held_raises),
        "untrusted_circuit_meters": list(controller.untrusted_circuit_meters),
        "drawing_too_much": list(controller.drawing_too_much),
    }


def controller_document(snapshot: StatusSnapshot) -> Document:
    """How the control loop fares: its proper steps, its faults, what it cannot prove."""
    controller = snapshot.controller
    return {
        "period_s": number(controller.period_s),
        "started_at": optional_iso_utc(controller.started_at),
        "last_step_at": optional_iso_utc(controller.last_step_at),
        "last_proper_step_at": optional_iso_utc(controller.last_proper_step_at),
        "seconds_since_proper_step": number(controller.seconds_since_proper_step(snapshot.at)),
        "last_step_fault": controller.last_step_fault,
        "step_errors": snapshot.counters.step_errors,
        "last_error": controller.last_error,
        "last_error_at": optional_iso_utc(controller.last_error_at),
        "fallback_steps": snapshot.counters.fallback_steps,
        "last_fallback_status": controller.last_fallback_status,
        "last_fallback_at": optional_iso_utc(controller.last_fallback_at),
        "unproven": [
            {
                "key": u.key,
                "since": iso_utc(u.since),
                "for_s": number(max((snapshot.at - u.since).total_seconds(), 0.0)),
            }
            for u in controller.unproven
        ],
        "unproven_grace_s": UNPROVEN_GRACE_S,
        "held_raises": list(controller.held_raises),
        "untrusted_circuit_meters": list(controller.untrusted_circuit_meters),
        "drawing_too_much": list(controller.drawing_too_much),
    }


def charger_document(charger: ChargerSnapshot) -> Document:
    return {
        "id": charger.id,
        "protocol": charger.protocol,
        "connected": charger.connected,
        "vendor": charger.vendor,
        "model": charger.model,
        "last_seen": optional_iso_utc(charger.last_seen),
    }


def connector_document(connector: ConnectorSnapshot) -> Document:
    return {
        "key": connector.key,
        "charger_id": connector.charger_id,
        "connector_id": connector.connector_id,
        "status": connector.status,
        "state": connector.state,
        "reason": connector.reason,
        "allowed_a": phases(connector.allowed_a),
        "drawn_a": phases(connector.drawn_a),
        "power_w": number(connector.power_w),
        "session_id": connector.session_id,
        "energy_wh": number(connector.energy_wh),
        "bound_a": number(connector.bound_a),
        "bound_source": connector.bound_source,
        "bound_proven": connector.bound_proven,
        "charging_mode": connector.charging_mode,
        "caught_drawing_too_much": connector.caught_drawing_too_much,
    }


def session_document(session: SessionSnapshot) -> Document:
    return {
        "id": session.id,
        "connector": session.connector,
        "charger_id": session.charger_id,
        "connector_id": session.connector_id,
        "started_at": iso_utc(session.started_at),
        "energy_wh": number(session.energy_wh),
        "id_token": session.id_token,
    }


def allocation_document(allocation: AllocationSnapshot | None) -> Document | None:
    if allocation is None:
        return None
    return {
        "status": allocation.status,
        "binding": list(allocation.binding),
        "solve_ms": number(allocation.solve_ms),
        "at": iso_utc(allocation.at),
    }


def money_document(money: MoneySnapshot | None) -> Document | None:
    """The price now and ahead, the demand charge and the billing period's peak so far
    (kW) against the cap the planner draws up to freely; None without a tariff."""
    if money is None:
        return None
    source = money.prices_source
    return {
        "price_per_kwh": number(money.price_per_kwh),
        "prices_ahead": [
            {"from": iso_utc(start), "price_per_kwh": number(price)}
            for start, price in money.prices_ahead
        ],
        "export_price_per_kwh": number(money.export_price_per_kwh),
        "demand": {
            "charge_per_kw": number(money.demand_charge_per_kw),
            "window_s": number(money.demand_window_s),
            "period_start": optional_iso_utc(money.demand_period_start),
            "peak_kw": number(money.demand_peak_w / W_PER_KW),
            "planned_cap_kw": number(money.planned_cap_w / W_PER_KW),
        },
        "prices_source": None
        if source is None
        else {"name": source.name, "age_s": number(source.age_s), "error": source.error},
        "load_ahead": [
            {"from": iso_utc(start), "kw": number(power_w / W_PER_KW)}
            for start, power_w in money.load_ahead
        ],
    }


def chargers_document(snapshot: StatusSnapshot) -> Document:
    return {
        "at": iso_utc(snapshot.at),
        "chargers": [charger_document(c) for c in snapshot.chargers],
    }


def connectors_document(snapshot: StatusSnapshot) -> Document:
    return {
        "at": iso_utc(snapshot.at),
        "connectors": [connector_document(c) for c in snapshot.connectors],
    }


def sessions_document(snapshot: StatusSnapshot) -> Document:
    return {
        "at": iso_utc(snapshot.at),
        "sessions": [session_document(s) for s in snapshot.sessions],
    }


def last_allocation_document(snapshot: StatusSnapshot) -> Document:
    return {
        "at": iso_utc(snapshot.at),
        "allocation": allocation_document(snapshot.allocation),
    }


def status_document(snapshot: StatusSnapshot) -> Document:
    """Everything in one document, so the page gets a consistent picture per poll."""
    counters = snapshot.counters
    return {
        "at": iso_utc(snapshot.at),
        "site": site_document(snapshot),
        "health": health_document(snapshot),
        "chargers": [charger_document(c) for c in snapshot.chargers],
        "connectors": [connector_document(c) for c in snapshot.connectors],
        "sessions": [session_document(s) for s in snapshot.sessions],
        "allocation": allocation_document(snapshot.allocation),
        "controller": controller_document(snapshot),
        "money": money_document(snapshot.money),
        "counters": {
            "profiles_sent": counters.profiles_sent,
            "profiles_rejected": counters.profiles_rejected,
            "meter_errors": counters.meter_errors,
            "solves": counters.solves,
            "solve_seconds_total": number(counters.solve_seconds_total),
            "step_errors": counters.step_errors,
            "fallback_steps": counters.fallback_steps,
        },
    }


def history_document(snapshot: StatusSnapshot, history: LoadHistory) -> Document:
    return {
        "at": iso_utc(snapshot.at),
        "interval_s": history.interval_s,
        "samples": [
            {
                "at": iso_utc(sample.at),
                "current_a": phases(sample.current_a),
                "limit_a": phases(sample.limit_a),
            }
            for sample in history.samples()
        ],
    }
