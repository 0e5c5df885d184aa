"""The controller's config for a row: `config_text` writes the TOML that `ems run` reads
(the site, its circuits and chargers, the fast control settings, OCPP, HTTP, the meter and
the store), with `_toml` for the values."""

from __future__ import annotations

from benchmarks.fault_rig.rows import FaultRow
from benchmarks.fault_rig.site import SiteSpec


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def config_text(spec: SiteSpec, row: FaultRow, meter_port: int, ocpp_port: int) -> str:
    lines = [
        "[site]",
        f'name = "Fault rig: {row.name}"',
        f"limit_a = {spec.limit_a}",
        f"worst_base_load_a = {_toml(spec.worst_a)}",
        "",
    ]
    used = {s.circuit for s in row.stations if s.configured and s.circuit}
    for circuit, limit in spec.circuits:
        if circuit in used:
            lines += ["[[circuits]]", f'id = "{circuit}"', f"limit_a = {limit}", ""]
    for station in row.stations:
        if not station.configured:
            continue
        lines += [
            "[[chargers]]",
            f'id = "{station.charger_id}"',
            "behind_meter = true",
            "  [[chargers.connectors]]",
            "  connector_id = 1",
            f'  phases = "{station.phases}"',
            f"  max_current_a = {station.max_current_a}",
        ]
        if station.circuit:
            lines.append(f'  circuit = "{station.circuit}"')
        lines.append("")
    lines.append("[control]")
    lines += [f"{key} = {_toml(value)}" for key, value in spec.control().items()]
    lines += [
        "",
        "[ocpp]",
        'host = "127.0.0.1"',
        f"port = {ocpp_port}",
        f'unknown_chargers = "{row.unknown_chargers}"',
        'unknown_tokens = "accept"',
        "call_timeout_s = 5",
        "heartbeat_interval_s = 300",
        "",
        "[http]",
        'host = "127.0.0.1"',
        "port = 0",
        "",
        "[[meters]]",
        'id = "grid"',
        'map = "sdm630"',
        'host = "127.0.0.1"',
        f"port = {meter_port}",
        f"interval_s = {spec.meter_interval_s}",
        "timeout_s = 0.2",
        "stale_after_s = 1",
        f"frozen_after_s = {spec.frozen_after_s}",
        "reconnect_min_s = 0.25",
        "reconnect_max_s = 0.5",
        "",
        "[store]",
        'path = "site.sqlite"',
    ]
    return "\n".join(lines) + "\n"
