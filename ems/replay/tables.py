"""A replay result as tables (pandas), ready for an adapter to write."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ems.replay.kpis import Kpis
from ems.replay.result import ReplayResult


def sessions_table(result: ReplayResult) -> pd.DataFrame:
    """Per session: times, requested and delivered energy (kWh), fully served."""
    return pd.DataFrame(
        {
            "session_id": [s.session_id for s in result.sessions],
            "connector_id": [s.connector for s in result.sessions],
            "arrival": [s.arrival.isoformat() for s in result.sessions],
            "departure": [s.departure.isoformat() for s in result.sessions],
            "requested_kwh": [round(s.requested_wh / 1000.0, 3) for s in result.sessions],
            "delivered_kwh": [round(s.delivered_wh / 1000.0, 3) for s in result.sessions],
            "fully_served": [s.fully_served for s in result.sessions],
        }
    )


def timeseries_table(result: ReplayResult) -> pd.DataFrame:
    """Per step: site power, per-phase current, limits, base load, price, and each
    connector's average per-phase current (columns `<connector key>_a`)."""
    timeline = result.timeline
    voltage_v = result.voltage_v
    times = [timeline.at(k).isoformat() for k in range(timeline.steps)]
    site_a = result.site_current_a
    base_a = timeline.base_load_a
    columns: dict[str, object] = {
        "timestamp": times,
        "site_power_kw": np.round(site_a.sum(axis=1) * voltage_v / 1000.0, 3),
        "ev_power_kw": np.round(result.connector_power_w.sum(axis=1) / 1000.0, 3),
        "l1_a": np.round(site_a[:, 0], 2),
        "l2_a": np.round(site_a[:, 1], 2),
        "l3_a": np.round(site_a[:, 2], 2),
        "limit_a": timeline.phase_limit_a,
        "power_limit_kw": timeline.power_limit_w / 1000.0,
        "base_l1_a": base_a[:, 0],
        "base_l2_a": base_a[:, 1],
        "base_l3_a": base_a[:, 2],
        "price_per_kwh": timeline.price_per_kwh,
    }
    frame = pd.DataFrame(columns)
    connectors = pd.DataFrame(
        np.round(result.connector_current_a, 2), columns=[f"{key}_a" for key in result.connectors]
    )
    return pd.concat([frame, connectors], axis=1)


def sweep_table(results: Mapping[tuple[float, str], Kpis]) -> pd.DataFrame:
    """One row per (site limit in A, strategy) with every KPI, sorted by limit."""
    rows = [
        {"limit_a": limit, "strategy": name, **kpis.as_dict()}
        for (limit, name), kpis in sorted(results.items(), key=lambda item: item[0][0])
    ]
    return pd.DataFrame(rows)
