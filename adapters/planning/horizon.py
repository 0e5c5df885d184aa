"""The multi-period schedule of a dry-run and the profiles that would carry it.

The controller plans `horizon_steps` steps ahead when sessions state energy needs or
departures; its live TX profiles carry only the part of that plan within
`profile_validity_s` (it re-plans every period). The dry-run shows the whole plan, per
connector and step, and renders it as one multi-period TX profile per session within the
charger's ChargingScheduleMaxPeriods: beyond the cap the renderer merges the tail into one
period at its lowest limit, which can only be more cautious than the plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from adapters.planning.payloads import ChargerTarget, Payload, render
from ems.commands import Command, ProfilePurpose, SetLimit
from ems.phases import round_down
from ems.planner import schedule_periods
from ems.site import ControlSettings, SiteConfig, connector_key
from optimizer.allocation import Allocation
from optimizer.problem import Problem


@dataclass(frozen=True)
class HorizonPlan:
    start: datetime
    step_s: float
    steps: int
    current_a: Mapping[str, tuple[float, ...]]
    """Per connector with an EV: the planned A per phase of every step (rounded down)."""
    departures: Mapping[str, datetime]
    """Per connector whose session stated one: when the EV leaves."""
    profiles: tuple[Payload, ...]
    notes: tuple[str, ...]

    def step_start(self, step: int) -> datetime:
        return self.start + timedelta(seconds=step * self.step_s)


def horizon_plan(
    site: SiteConfig,
    settings: ControlSettings,
    problem: Problem,
    allocation: Allocation,
    commands: tuple[Command, ...],
    targets: Mapping[str, ChargerTarget],
) -> HorizonPlan | None:
    """The plan behind the step's allocation; None when the step planned the present only."""
    horizon = problem.horizon
    if horizon is None:
        return None
    by_id = allocation.by_id()
    present = [c.id for c in problem.connectors if c.ev_present and c.id in by_id]
    current = {key: tuple(round_down(a) for a in by_id[key].current_a) for key in present}
    profiles: list[Payload] = []
    notes: list[str] = []
    for command in commands:
        if not isinstance(command, SetLimit) or command.purpose is not ProfilePurpose.TX:
            continue
        found = by_id.get(connector_key(command.charger_id, command.connector_id))
        if found is None:
            continue
        profile = _horizon_profile(command, found.current_a, horizon.step_s, settings)
        target = targets[command.charger_id]
        payload = render(site, target, profile, settings.max_schedule_periods)
        profiles.append(payload)
        notes.extend(_merge_note(profile, payload))
    return HorizonPlan(
        start=horizon.start,
        step_s=horizon.step_s,
        steps=horizon.steps,
        current_a=current,
        departures={
            c.id: c.departure for c in problem.connectors if c.id in current and c.departure
        },
        profiles=tuple(profiles),
        notes=tuple(notes),
    )


def _horizon_profile(
    command: SetLimit, planned_a: tuple[float, ...], step_s: float, settings: ControlSettings
) -> SetLimit:
    """The session's TX profile stretched over the whole plan: now the limit the step
    decided, then one period per planned step (equal neighbours joined)."""
    backdate_s = settings.start_schedule_backdate_s
    limits = (command.limit_now_a, *planned_a[1:])
    phases = command.periods[0].number_phases if command.periods else None
    periods, duration_s = schedule_periods(
        limits,
        step_s,
        phases or 3,
        backdate_s,
        backdate_s + len(limits) * step_s,
        len(limits),
    )
    return replace(
        command,
        periods=periods,
        duration_s=duration_s,
        reason=(
            f"the plan over {len(limits)} steps of {step_s / 60:g} min; live, the controller "
            f"re-plans every {settings.period_s:g} s and sends the part within "
            f"{settings.profile_validity_s:g} s"
        ),
    )


def _merge_note(profile: SetLimit, payload: Payload) -> list[str]:
    if payload.payload is None:
        return []
    sent = _sent_periods(payload)
    if sent >= len(profile.periods):
        return []
    key = connector_key(profile.charger_id, profile.connector_id)
    return [
        f"{key}: {len(profile.periods)} planned periods merged into {sent}, the most the "
        "charger takes (or max_schedule_periods); the merged tail holds its lowest limit"
    ]


def _sent_periods(payload: Payload) -> int:
    body = payload.payload or {}
    if "csChargingProfiles" in body:
        return len(body["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"])
    schedules = body["chargingProfile"]["chargingSchedule"]
    return sum(len(s["chargingSchedulePeriod"]) for s in schedules)
