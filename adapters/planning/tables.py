"""The dry-run as rich tables for a person: connectors, site, fallbacks, horizon, payloads."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC

from rich.console import Console
from rich.table import Table

from adapters.clock import iso_utc
from adapters.planning.dry_run import DryRun
from adapters.planning.horizon import HorizonPlan
from adapters.planning.money import money_lines
from adapters.planning.payloads import Payload
from adapters.planning.site_summary import site_summary
from adapters.planning.why import session_why
from optimizer.problem import Phase, PhaseTriple

NOT_SENT = "not sent (dry-run)"


def print_dry_run(console: Console, run: DryRun) -> None:
    console.print(
        f"[bold]Dry-run of {run.site.name} at {iso_utc(run.now)}[/bold]: nothing is sent.",
        highlight=False,
    )
    console.print(connector_table(run))
    _print_reasons(console, run)
    _print_whys(console, run)
    _print_site(console, run)
    _print_fallbacks(console, run)
    if run.horizon is not None:
        console.print(horizon_table(run.horizon))
        for note in run.horizon.notes:
            console.print(f"  {note}", highlight=False, markup=False)
    if run.money is not None:
        for line in money_lines(run.money):
            console.print(line, highlight=False, markup=False)
    _print_payloads(console, run, run.payloads, "OCPP requests")
    for charger_id, target in run.targets.items():
        if not target.online:
            console.print(f"{charger_id}: offline, nothing to send", highlight=False, markup=False)
    if run.horizon is not None:
        _print_payloads(console, run, run.horizon.profiles, "Horizon profiles")


def connector_table(run: DryRun) -> Table:
    """One row per connector; the reasons follow the table (see `_print_reasons`), so
    that the table fits a narrow terminal."""
    table = Table(title="Connectors: what each may draw, and why", title_justify="left")
    table.add_column("connector")
    table.add_column("state")
    for phase in Phase:
        table.add_column(f"{phase.name} A", justify="right")
    table.add_column("kW", justify="right")
    table.add_column("bottleneck")
    table.add_column("needs kWh", justify="right")
    table.add_column("leaves (UTC)")
    voltage_v = run.site.limits.voltage_v
    for view in run.view.connectors:
        table.add_row(
            view.key,
            view.state,
            *_cells(view.allowed_a),
            f"{sum(view.allowed_a) * voltage_v / 1000:.2f}",
            view.bottleneck or "",
            "" if view.need_wh is None else f"{view.need_wh / 1000:.1f}",
            "" if view.departure is None else f"{view.departure.astimezone(UTC):%Y-%m-%d %H:%M}",
        )
    return table


def _print_reasons(console: Console, run: DryRun) -> None:
    for view in run.view.connectors:
        session = "" if view.transaction_id is None else f" (transaction {view.transaction_id})"
        console.print(f"  {view.key}{session}: {view.reason}", highlight=False, markup=False)


def _print_whys(console: Console, run: DryRun) -> None:
    """Why each session charges when it does (`adapters.planning.why`)."""
    voltage_v = run.site.limits.voltage_v
    whys = [(v.key, session_why(v, run.money, run.now, voltage_v)) for v in run.view.connectors]
    if not any(why for _, why in whys):
        return
    console.print("When each session charges, and why:", highlight=False, markup=False)
    for key, why in whys:
        if why is not None:
            console.print(f"  {key}: {why}", highlight=False, markup=False)


def _print_site(console: Console, run: DryRun) -> None:
    summary = site_summary(run)
    table = Table(title=f"Site {summary.name}", title_justify="left")
    table.add_column("per phase")
    for phase in Phase:
        table.add_column(f"{phase.name} A", justify="right")
    limit = summary.limit_a
    rows: list[tuple[str, PhaseTriple | None]] = [
        ("site limit", (limit, limit, limit)),
        ("site meter", summary.meter_current_a),
        ("base load (not our chargers)", summary.base_load_a),
        ("reserved (connectors not steered)", summary.reserved_a),
        ("allowed in total", summary.allowed_total_a),
        ("headroom", summary.headroom_a),
    ]
    for label, values in rows:
        table.add_row(label, *(_cells(values) if values is not None else ("–", "–", "–")))
    console.print(table)
    power = "none" if summary.power_limit_w is None else f"{summary.power_limit_w / 1000:g} kW"
    age = "" if summary.meter_age_s is None else f", reading {summary.meter_age_s:.0f} s old"
    lines = [
        f"site limit: {summary.limit_reason or 'as configured'}",
        f"mode: {summary.mode} ({summary.mode_reason}{age})",
        f"power cap: {power}; voltage {summary.voltage_v:g} V",
        f"optimizer: {summary.solve_status or 'not run (no session to steer)'}",
        f"binding: {', '.join(summary.binding) or 'none'}",
    ]
    for line in lines:
        console.print(f"  {line}", highlight=False, markup=False)
    _print_caps(console, run)


def _print_caps(console: Console, run: DryRun) -> None:
    """The grid operator's caps over the plan: the plan keeps the one in force now; the
    live controller puts each lower one in force shortly before it starts."""
    if not run.caps:
        return
    table = Table(title="Grid operator caps ahead", title_justify="left")
    for name in ("from (UTC)", "A per phase", "kW in total"):
        table.add_column(name, justify="left" if name.startswith("from") else "right")
    for cap in run.caps:
        table.add_row(
            f"{cap.start.astimezone(UTC):%Y-%m-%d %H:%M}",
            "–" if cap.phase_limit_a is None else f"{cap.phase_limit_a:g}",
            "–" if cap.power_limit_w is None else f"{cap.power_limit_w / 1000:g}",
        )
    console.print(table)
    console.print(
        "  the plan holds the cap in force now; each lower cap is put in force before it"
        " starts, each higher one when it starts",
        highlight=False,
        markup=False,
    )


def _print_fallbacks(console: Console, run: DryRun) -> None:
    plan = run.fallbacks
    table = Table(
        title="Fallbacks: every connector at its fallback at once, with the worst base load",
        title_justify="left",
    )
    for name in ("limit", "room", "connectors at their fallback", "sum", "verdict"):
        table.add_column(name, justify="right" if name in ("room", "sum") else "left")
    for limit in plan.limits:
        unit = "W" if limit.name == "site-power" else "A"
        members = ", ".join(
            f"{key} {plan.fallback_a[key]:g} A" + ("" if w == 1.0 else f" × {w:g} W/A")
            for key, w in zip(limit.members, limit.weights, strict=True)
        )
        table.add_row(
            limit.name,
            f"{limit.room:g} {unit}",
            members,
            f"{limit.total:g} {unit}",
            "fits" if limit.fits else "DOES NOT FIT",
        )
    console.print(table)
    console.print(
        "  room = the limit minus the worst configured base load (site phases and power), "
        "or the circuit's limit",
        highlight=False,
        markup=False,
    )
    for line in plan.explanation:
        console.print(f"  {line}", highlight=False, markup=False)


def horizon_table(plan: HorizonPlan) -> Table:
    table = Table(
        title=(
            f"Schedule: A per phase, {plan.steps} steps of {plan.step_s / 60:g} min "
            "(the first is applied now; later steps are re-planned)"
        ),
        title_justify="left",
    )
    table.add_column("from (UTC)")
    keys = list(plan.current_a)
    for key in keys:
        table.add_column(key, justify="right")
    for step in range(plan.steps):
        start = plan.step_start(step)
        cells = []
        for key in keys:
            value = f"{plan.current_a[key][step]:g}"
            departure = plan.departures.get(key)
            if departure is not None and start <= departure < plan.step_start(step + 1):
                value += " (leaves)"
            cells.append(value)
        table.add_row(start.strftime("%Y-%m-%d %H:%M"), *cells)
    return table


def _print_payloads(console: Console, run: DryRun, payloads: Iterable[Payload], title: str) -> None:
    by_charger: dict[str, list[Payload]] = {}
    for payload in payloads:
        by_charger.setdefault(payload.charger_id, []).append(payload)
    console.print(f"[bold]{title}[/bold]: {NOT_SENT}", highlight=False)
    if not by_charger:
        console.print("  none", highlight=False)
    for charger_id, items in by_charger.items():
        target = run.targets[charger_id]
        assumed = "" if target.protocol_known else ", assumed: the snapshot does not say"
        console.print(f"{charger_id} ({target.protocol}{assumed})", highlight=False, markup=False)
        for item in items:
            head = f"  {item.action} {item.purpose.value} connector {item.connector_id}"
            if item.profile_id is not None:
                head += f", profile id {item.profile_id}"
            console.print(f"{head}: {NOT_SENT}", highlight=False, markup=False)
            console.print(f"  reason: {item.reason}", highlight=False, markup=False)
            if item.payload is None:
                console.print(f"  cannot be rendered: {item.error}", highlight=False, markup=False)
                continue
            console.print(
                json.dumps(item.payload, indent=2), highlight=False, markup=False, soft_wrap=True
            )


def _cells(values: PhaseTriple) -> tuple[str, str, str]:
    return (f"{values[0]:g}", f"{values[1]:g}", f"{values[2]:g}")
