"""The controller's profile commands as JSON, so a restarted controller can recall what
each charger was sent (the store keeps the OCPP payload too, but that is rendered in W
for some chargers and rounded: the command is what the controller reasons with)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ems.commands import LimitPeriod, ProfilePurpose, SetLimit


def command_to_json(command: SetLimit) -> dict[str, Any]:
    return {
        "charger_id": command.charger_id,
        "connector_id": command.connector_id,
        "purpose": command.purpose.value,
        "periods": [[p.start_s, p.limit_a, p.number_phases] for p in command.periods],
        "start": command.start.isoformat(),
        "reason": command.reason,
        "duration_s": command.duration_s,
        "transaction_id": command.transaction_id,
        "stack_level": command.stack_level,
        "voltage_v": command.voltage_v,
        "attempt": command.attempt,
    }


def command_from_json(data: dict[str, Any]) -> SetLimit:
    """The command `command_to_json` wrote; ValueError (or KeyError/TypeError) for a
    record that is not one."""
    start = datetime.fromisoformat(data["start"])
    if start.tzinfo is None:
        raise ValueError(f"profile start {data['start']!r} has no time zone")
    return SetLimit(
        charger_id=str(data["charger_id"]),
        connector_id=int(data["connector_id"]),
        purpose=ProfilePurpose(data["purpose"]),
        periods=tuple(
            LimitPeriod(float(s), float(a), None if n is None else int(n))
            for s, a, n in data["periods"]
        ),
        start=start,
        reason=str(data["reason"]),
        duration_s=None if data["duration_s"] is None else float(data["duration_s"]),
        transaction_id=None if data["transaction_id"] is None else str(data["transaction_id"]),
        stack_level=None if data["stack_level"] is None else int(data["stack_level"]),
        voltage_v=float(data["voltage_v"]),
        attempt=int(data["attempt"]),
    )
