"""Prometheus metrics, read from a fresh snapshot at every scrape.

Each server owns its registry, so two servers in one process (tests, a demo beside a
real run) never share or clash over series. Unknown measurements are left out of the
scrape rather than exported as 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from adapters.http.documents import PHASES
from adapters.http.health import assess
from adapters.http.snapshot import StatusSnapshot
from adapters.http.source import StatusSource

KNOWN_MODES = ("normal", "conservative")
"""Always exported (0 when not current), so an alert on a mode has a series to watch."""

CONNECTOR_STATES = ("charging", "paused", "idle")
CHARGING_MODES = ("fast", "planned", "solar", "min+solar")


def _per_phase(
    family: GaugeMetricFamily, values: Sequence[float | None], *labels: str
) -> GaugeMetricFamily:
    for phase, value in zip(PHASES, values, strict=True):
        if value is not None:
            family.add_metric([*labels, phase], value)
    return family


def _known_and(known: tuple[str, ...], current: str) -> tuple[str, ...]:
    """The label values of a one-hot gauge: every known value, plus an unexpected one."""
    return known if current in known else (*known, current)


class SnapshotCollector(Collector):
    """Turns the snapshot of the moment into metric families."""

    def __init__(self, source: StatusSource) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        snapshot = self._source.snapshot()
        yield from _site_metrics(snapshot)
        yield from _connector_metrics(snapshot)
        yield from _controller_metrics(snapshot)
        yield from _money_metrics(snapshot)


def _site_metrics(snapshot: StatusSnapshot) -> Iterator[Metric]:
    site = snapshot.site
    yield _per_phase(
        GaugeMetricFamily(
            "ems_site_current_amperes", "Site current measured by the meter.", labels=["phase"]
        ),
        site.current_a,
    )
    yield _per_phase(
        GaugeMetricFamily(
            "ems_site_limit_amperes",
            "Per-phase site limit applied now (operator override included).",
            labels=["phase"],
        ),
        site.limit_a,
    )
    yield _per_phase(
        GaugeMetricFamily(
            "ems_site_base_load_amperes",
            "Site load other than the controlled chargers.",
            labels=["phase"],
        ),
        site.base_load_a,
    )
    if site.power_limit_w is not None:
        yield GaugeMetricFamily(
            "ems_site_power_limit_watts", "Cap on total site power.", value=site.power_limit_w
        )
    if site.meter_age_s is not None:
        yield GaugeMetricFamily(
            "ems_meter_age_seconds", "Age of the last meter reading.", value=site.meter_age_s
        )
    yield GaugeMetricFamily(
        "ems_meter_valid", "1 if the last meter reading was valid.", value=float(site.meter_valid)
    )
    if site.net_import_w is not None and math.isfinite(site.net_import_w):
        yield GaugeMetricFamily(
            "ems_site_net_import_watts",
            "Site power the meter measures: import positive, negative while exporting (PV).",
            value=site.net_import_w,
        )
    if site.pv_power_w is not None and math.isfinite(site.pv_power_w):
        yield GaugeMetricFamily(
            "ems_site_pv_watts",
            "What the site's PV produces (its PV meters).",
            value=site.pv_power_w,
        )


def _connector_metrics(snapshot: StatusSnapshot) -> Iterator[Metric]:
    allowed = GaugeMetricFamily(
        "ems_connector_allowed_amperes",
        "Current the controller allows the connector, per site phase.",
        labels=["connector", "phase"],
    )
    drawn = GaugeMetricFamily(
        "ems_connector_drawn_amperes",
        "Current the charger reports the connector draws, per site phase.",
        labels=["connector", "phase"],
    )
    power = GaugeMetricFamily(
        "ems_connector_power_watts", "Power the connector draws.", labels=["connector"]
    )
    state = GaugeMetricFamily(
        "ems_connector_state",
        "1 for the controller's current state of the connector.",
        labels=["connector", "state"],
    )
    bound = GaugeMetricFamily(
        "ems_connector_bound_amperes",
        "Current the connector may draw on each of its phases, as far as the controller can prove.",
        labels=["connector"],
    )
    proven = GaugeMetricFamily(
        "ems_connector_bound_proven",
        "0 while the connector is counted at its hardware maximum (no profile confirmed).",
        labels=["connector"],
    )
    mode = GaugeMetricFamily(
        "ems_connector_charging_mode",
        "1 for how the connector's sessions charge (fast, planned, solar, min+solar).",
        labels=["connector", "mode"],
    )
    for connector in snapshot.connectors:
        _per_phase(allowed, connector.allowed_a, connector.key)
        _per_phase(drawn, connector.drawn_a, connector.key)
        if connector.power_w is not None:
            power.add_metric([connector.key], connector.power_w)
        for name in _known_and(CONNECTOR_STATES, connector.state):
            state.add_metric([connector.key, name], float(name == connector.state))
        if math.isfinite(connector.bound_a):
            bound.add_metric([connector.key], connector.bound_a)
        proven.add_metric([connector.key], float(connector.bound_proven))
        for name in _known_and(CHARGING_MODES, connector.charging_mode):
            mode.add_metric([connector.key, name], float(name == connector.charging_mode))
    yield from (allowed, drawn, power, state, bound, proven, mode)
    yield GaugeMetricFamily(
        "ems_chargers_connected",
        "Chargers connected to the central system.",
        value=sum(1 for c in snapshot.chargers if c.connected),
    )


def _controller_metrics(snapshot: StatusSnapshot) -> Iterator[Metric]:
    site, counters, controller = snapshot.site, snapshot.counters, snapshot.controller
    mode = GaugeMetricFamily(
        "ems_controller_mode", "1 for the controller's current mode.", labels=["mode"]
    )
    for name in _known_and(KNOWN_MODES, site.mode):
        mode.add_metric([name], float(name == site.mode))
    yield mode
    yield GaugeMetricFamily(
        "ems_healthy", "1 if /api/health reports ok.", value=float(assess(snapshot).ok)
    )
    since_s = controller.seconds_since_proper_step(snapshot.at)
    if since_s is not None:
        yield GaugeMetricFamily(
            "ems_seconds_since_proper_step",
            "Time since the last control step without an exception and, if it solved,"
            " with an optimal allocation (since the start while there was none).",
            value=since_s,
        )
    yield GaugeMetricFamily(
        "ems_connectors_unproven",
        "Connectors counted at their hardware maximum: none of their profiles is confirmed.",
        value=len(controller.unproven),
    )
    yield GaugeMetricFamily(
        "ems_raises_held",
        "Connectors whose raise waits for room that lowerings elsewhere have yet to free.",
        value=len(controller.held_raises),
    )
    yield GaugeMetricFamily(
        "ems_circuit_meters_untrusted",
        "Circuit meters not trusted now: stale, or short of what our chargers under them draw.",
        value=len(controller.untrusted_circuit_meters),
    )
    yield GaugeMetricFamily(
        "ems_connectors_drawing_too_much",
        "Connectors whose chargers draw more than allowed now, counted at their maximum.",
        value=len(controller.drawing_too_much),
    )
    yield CounterMetricFamily(
        "ems_step_errors",
        "Exceptions in the controller (raised out of it, or by the allocation solver).",
        value=counters.step_errors,
    )
    yield CounterMetricFamily(
        "ems_optimizer_fallback_steps",
        "Control steps that used the optimizer's safe fallback allocation, not an optimal one.",
        value=counters.fallback_steps,
    )
    if snapshot.allocation is not None:
        yield GaugeMetricFamily(
            "ems_last_solve_seconds",
            "Duration of the last allocation solve.",
            value=snapshot.allocation.solve_ms / 1000.0,
        )
    yield SummaryMetricFamily(
        "ems_solve_duration_seconds",
        "Time spent solving allocations.",
        count_value=counters.solves,
        sum_value=counters.solve_seconds_total,
    )
    yield CounterMetricFamily(
        "ems_profiles_sent", "Charging profiles sent to chargers.", value=counters.profiles_sent
    )
    yield CounterMetricFamily(
        "ems_profiles_rejected",
        "Charging profiles chargers rejected or did not answer.",
        value=counters.profiles_rejected,
    )
    yield CounterMetricFamily(
        "ems_meter_errors", "Failed or invalid site meter reads.", value=counters.meter_errors
    )


def _money_metrics(snapshot: StatusSnapshot) -> Iterator[Metric]:
    """The tariff as the controller plans with it, and the billing period's peak."""
    money = snapshot.money
    if money is None:
        return
    if money.price_per_kwh is not None and math.isfinite(money.price_per_kwh):
        yield GaugeMetricFamily(
            "ems_price_per_kwh", "Import price now, per kWh.", value=money.price_per_kwh
        )
    yield GaugeMetricFamily(
        "ems_export_price_per_kwh", "Feed-in price, per kWh.", value=money.export_price_per_kwh
    )
    yield GaugeMetricFamily(
        "ems_demand_charge_per_kw",
        "Demand charge per kW of the billing period's highest window average import.",
        value=money.demand_charge_per_kw,
    )
    yield GaugeMetricFamily(
        "ems_demand_peak_watts",
        "The billing period's highest window average import so far.",
        value=money.demand_peak_w,
    )
    yield GaugeMetricFamily(
        "ems_demand_planned_cap_watts",
        "Site import the planner draws up to at no further demand charge.",
        value=money.planned_cap_w,
    )
    source = money.prices_source
    if source is None:
        return
    if source.age_s is not None:
        age = GaugeMetricFamily(
            "ems_prices_age_seconds",
            "Time since the price series in force was read from its source.",
            labels=["source"],
        )
        age.add_metric([source.name], source.age_s)
        yield age
    failing = GaugeMetricFamily(
        "ems_prices_refresh_failing",
        "1 while the last refresh of the price series failed (the last good one is kept).",
        labels=["source"],
    )
    failing.add_metric([source.name], float(source.error is not None))
    yield failing


class Metrics:
    """A registry of its own holding the snapshot collector."""

    def __init__(self, source: StatusSource) -> None:
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(SnapshotCollector(source))

    def render(self) -> bytes:
        """The Prometheus text exposition format."""
        return generate_latest(self._registry)
