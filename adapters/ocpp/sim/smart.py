"""The charging profiles a simulated charger holds, and the limit they impose over time.

Version-neutral: profiles from 1.6 and 2.0.1 frames (snake_case keys, as the `ocpp`
package hands them to handlers) become `InstalledProfile`s. The rules follow the specs:
within a purpose the highest stack level in force wins; a TxProfile (only during its
transaction) overrides the TxDefaultProfile; a connector's own TxDefaultProfile overrides
one installed on connector 0; the station maximum caps the charger as a whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ems.commands import ProfilePurpose

PURPOSES = {
    "ChargePointMaxProfile": ProfilePurpose.STATION_MAX,
    "ChargingStationMaxProfile": ProfilePurpose.STATION_MAX,
    "TxDefaultProfile": ProfilePurpose.TX_DEFAULT,
    "TxProfile": ProfilePurpose.TX,
}
_RECURRENCE = {"Daily": timedelta(days=1), "Weekly": timedelta(days=7)}
_MAX_CYCLES = 400
DEFAULT_PHASES = 3


def parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True)
class SchedulePeriod:
    start_s: int
    limit: float
    number_phases: int | None = None


@dataclass(frozen=True)
class Limit:
    """A per-phase current limit and, when a profile restricts it, the phases to use."""

    current_a: float
    number_phases: int | None = None


@dataclass(frozen=True)
class InstalledProfile:
    id: int
    connector_id: int
    purpose: ProfilePurpose
    stack_level: int
    kind: str
    unit: str
    periods: tuple[SchedulePeriod, ...]
    start: datetime | None = None
    duration_s: int | None = None
    recurrency: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None

    def anchor(self, at: datetime, tx_start: datetime | None) -> datetime | None:
        """When the schedule in force at `at` began (None: not started)."""
        if self.kind == "Relative":
            return tx_start or at
        if self.start is None:
            return None
        period = _RECURRENCE.get(self.recurrency or "")
        if self.kind != "Recurring" or period is None or at < self.start:
            return self.start
        return self.start + period * ((at - self.start) // period)

    def period_at(self, at: datetime, tx_start: datetime | None = None) -> SchedulePeriod | None:
        if self.valid_from is not None and at < self.valid_from:
            return None
        if self.valid_to is not None and at >= self.valid_to:
            return None
        anchor = self.anchor(at, tx_start)
        if anchor is None:
            return None
        elapsed = (at - anchor).total_seconds()
        if elapsed < 0 or (self.duration_s is not None and elapsed >= self.duration_s):
            return None
        in_force = [p for p in self.periods if p.start_s <= elapsed]
        return in_force[-1] if in_force else None

    def boundaries(
        self, begin: datetime, end: datetime, tx_start: datetime | None
    ) -> set[datetime]:
        """Instants in [begin, end) where this profile's value may change."""
        anchors = {a for a in (self.anchor(begin, tx_start), self.anchor(end, tx_start)) if a}
        period = _RECURRENCE.get(self.recurrency or "")
        if self.kind == "Recurring" and period is not None and anchors:
            first = min(anchors)
            anchors |= {first + period * k for k in range(_MAX_CYCLES) if first + period * k < end}
        out = {t for t in (self.valid_from, self.valid_to) if t is not None}
        for anchor in anchors:
            out |= {anchor + timedelta(seconds=p.start_s) for p in self.periods}
            if self.duration_s is not None:
                out.add(anchor + timedelta(seconds=self.duration_s))
        return {t for t in out if begin <= t < end}


def to_amps(period: SchedulePeriod, unit: str, voltage_v: float) -> float:
    """A period's limit as current per phase; W is total power over numberPhases (default 3)."""
    if unit == "W":
        return period.limit / (voltage_v * (period.number_phases or DEFAULT_PHASES))
    return period.limit


def profile_from_wire(
    connector_id: int, profile: dict[str, Any], received_at: datetime
) -> InstalledProfile:
    """Build from a 1.6 `cs_charging_profiles` or a 2.0.1 `charging_profile` (snake_case).

    An Absolute profile without startSchedule starts when it is received.
    """
    schedule = profile["charging_schedule"]
    if isinstance(schedule, list):  # 2.0.1: up to three schedules; the first is the one used
        schedule = schedule[0]
    periods = tuple(
        SchedulePeriod(
            int(p["start_period"]), float(Decimal(str(p["limit"]))), p.get("number_phases")
        )
        for p in schedule["charging_schedule_period"]
    )
    kind = profile["charging_profile_kind"]
    start = parse_time(schedule.get("start_schedule"))
    if start is None and kind == "Absolute":
        start = received_at
    tx = profile.get("transaction_id")
    return InstalledProfile(
        id=int(profile.get("charging_profile_id", profile.get("id", 0))),
        connector_id=connector_id,
        purpose=PURPOSES[profile["charging_profile_purpose"]],
        stack_level=int(profile["stack_level"]),
        kind=kind,
        unit=schedule["charging_rate_unit"],
        periods=periods,
        start=start,
        duration_s=schedule.get("duration"),
        recurrency=profile.get("recurrency_kind"),
        valid_from=parse_time(profile.get("valid_from")),
        valid_to=parse_time(profile.get("valid_to")),
        transaction_id=None if tx is None else str(tx),
    )


@dataclass(frozen=True)
class Transaction:
    """The transaction running on a connector, for TxProfiles and Relative schedules."""

    transaction_id: str
    started: datetime


class ProfileStore:
    """Installed profiles of one charger and the limits they give."""

    def __init__(self, voltage_v: float = 230.0) -> None:
        self.voltage_v = voltage_v
        self._profiles: list[InstalledProfile] = []

    @property
    def profiles(self) -> tuple[InstalledProfile, ...]:
        return tuple(self._profiles)

    def install(self, profile: InstalledProfile) -> None:
        """Replaces a profile with the same id, or the same connector, purpose and level."""
        self._profiles = [
            p
            for p in self._profiles
            if p.id != profile.id
            and (p.connector_id, p.purpose, p.stack_level)
            != (profile.connector_id, profile.purpose, profile.stack_level)
        ]
        self._profiles.append(profile)

    def clear(
        self,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: ProfilePurpose | None = None,
        stack_level: int | None = None,
    ) -> int:
        """Remove by id, or else by every criterion given; returns how many went."""

        def matches(p: InstalledProfile) -> bool:
            if profile_id is not None:
                return p.id == profile_id
            return (
                (connector_id is None or p.connector_id == connector_id)
                and (purpose is None or p.purpose == purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        kept = [p for p in self._profiles if not matches(p)]
        removed = len(self._profiles) - len(kept)
        self._profiles = kept
        return removed

    def end_transaction(self, connector_id: int) -> None:
        """A TxProfile lives only as long as its transaction."""
        self.clear(connector_id=connector_id, purpose=ProfilePurpose.TX)

    def _purpose_limit(
        self,
        purpose: ProfilePurpose,
        connector_id: int,
        at: datetime,
        tx: Transaction | None,
    ) -> Limit | None:
        best: tuple[int, Limit] | None = None
        tx_start = tx.started if tx else None
        for p in self._profiles:
            if p.purpose is not purpose or p.connector_id != connector_id:
                continue
            if purpose is ProfilePurpose.TX and (
                tx is None or (p.transaction_id not in (None, tx.transaction_id))
            ):
                continue
            period = p.period_at(at, tx_start)
            if period is None or (best is not None and best[0] >= p.stack_level):
                continue
            best = (
                p.stack_level,
                Limit(to_amps(period, p.unit, self.voltage_v), period.number_phases),
            )
        return None if best is None else best[1]

    def station_limit(self, at: datetime) -> Limit | None:
        return self._purpose_limit(ProfilePurpose.STATION_MAX, 0, at, None)

    def connector_limit(
        self, connector_id: int, at: datetime, tx: Transaction | None
    ) -> Limit | None:
        """The TxProfile (during a transaction) or else the TxDefaultProfile in force,
        capped by the station maximum. None when no profile applies."""
        own = None
        if tx is not None:
            own = self._purpose_limit(ProfilePurpose.TX, connector_id, at, tx)
        if own is None:
            own = self._purpose_limit(ProfilePurpose.TX_DEFAULT, connector_id, at, tx)
        if own is None:
            own = self._purpose_limit(ProfilePurpose.TX_DEFAULT, 0, at, tx)
        return _lower(own, self.station_limit(at))

    def composite(
        self,
        connector_id: int,
        begin: datetime,
        duration_s: int,
        tx: Transaction | None,
        hardware_max_a: float,
    ) -> list[tuple[int, Limit]]:
        """The limit over [begin, begin + duration) as (offset s, limit) steps; connector 0
        gives the station maximum."""
        end = begin + timedelta(seconds=duration_s)
        tx_start = tx.started if tx else None
        times = {begin}
        for p in self._profiles:
            times |= p.boundaries(begin, end, tx_start)
        steps: list[tuple[int, Limit]] = []
        for t in sorted(times):
            found = (
                self.station_limit(t)
                if connector_id == 0
                else self.connector_limit(connector_id, t, tx)
            )
            limit = _lower(found, Limit(hardware_max_a)) or Limit(hardware_max_a)
            offset = math.floor((t - begin).total_seconds())
            if steps and steps[-1][1] == limit:
                continue
            if steps and steps[-1][0] == offset:
                steps[-1] = (offset, _lower(steps[-1][1], limit) or limit)
            else:
                steps.append((offset, limit))
        return steps


def _lower(a: Limit | None, b: Limit | None) -> Limit | None:
    if a is None or b is None:
        return a or b
    phases = [n for n in (a.number_phases, b.number_phases) if n is not None]
    return Limit(min(a.current_a, b.current_a), min(phases) if phases else None)
