"""Running totals of what the runtime did, for the status API and the metrics."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.http.snapshot import Counters


@dataclass
class RuntimeCounters:
    """Mutated on the event loop only; `snapshot` gives the frozen copy the server shows."""

    profiles_sent: int = 0
    profiles_rejected: int = 0
    """Profiles sent that the charger did not accept (refused, error, timeout, gone)."""
    meter_errors: int = 0
    """Failed meter reads, of every meter."""
    solves: int = 0
    solve_seconds_total: float = 0.0

    def snapshot(self) -> Counters:
        return Counters(
            profiles_sent=self.profiles_sent,
            profiles_rejected=self.profiles_rejected,
            meter_errors=self.meter_errors,
            solves=self.solves,
            solve_seconds_total=self.solve_seconds_total,
        )
