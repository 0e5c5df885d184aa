"""The dry-run: a fresh controller fed a snapshot as events, and what it would send.

The snapshot becomes the events the live edges would produce (charger connected and its
capabilities, status, session started, meter sample, energy need, site meter reading), all
handled at `now`, then one tick runs the control step. The commands that come back are
rendered for each charger's protocol and returned; nothing is sent. The controller is
fresh, so every session gets its first limit, as after a restart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from adapters.planning.horizon import HorizonPlan, horizon_plan
from adapters.planning.money import MoneyPlan, money_plan
from adapters.planning.payloads import ChargerTarget, Payload, render
from adapters.planning.snapshot import ChargerSnapshot, ConnectorSnapshot, Snapshot
from ems.commands import Command, SetLimit
from ems.controller import Controller
from ems.events import (
    ChargerCapabilities,
    ChargerConnected,
    ChargerDisconnected,
    EnergyNeed,
    Event,
    MeterReading,
    MeterSample,
    ProfileAnswer,
    SessionStarted,
    StatusChanged,
    Tick,
)
from ems.fallback import FallbackPlan
from ems.grid_cap import GridCap, caps_ahead
from ems.site import ControlSettings, SiteConfig
from ems.site_limit import cap_lead_s, limit_in_force, limit_wanted
from ems.solver_port import AllocationSolver
from ems.view import ControllerView
from optimizer.allocation import Allocation
from optimizer.problem import Problem, SiteLimits
from optimizer.solver import Solver

SITE_METER_ID = "site"


@dataclass(frozen=True)
class DryRun:
    site: SiteConfig
    settings: ControlSettings
    now: datetime
    view: ControllerView
    fallbacks: FallbackPlan
    targets: Mapping[str, ChargerTarget]
    payloads: tuple[Payload, ...]
    horizon: HorizonPlan | None
    money: MoneyPlan | None = None
    limits: SiteLimits | None = None
    """The site limit in force at `now` (a grid operator's cap included); None: the
    configured one."""
    limit_reason: str | None = None
    caps: tuple[GridCap, ...] = ()
    """The grid operator's caps in force from `now` to the end of the plan (at least
    `CAPS_SHOWN_S` on)."""


CAPS_SHOWN_S = 86_400.0
"""How far ahead the dry-run lists the grid operator's caps without a longer horizon."""


class _RecordingSolver:
    """Passes problems to the solver and keeps the last question and answer."""

    def __init__(self, inner: AllocationSolver) -> None:
        self._inner = inner
        self.last: tuple[Problem, Allocation] | None = None

    def solve(self, problem: Problem) -> Allocation:
        allocation = self._inner.solve(problem)
        self.last = (problem, allocation)
        return allocation


def horizon_settings(settings: ControlSettings, horizon_s: float) -> ControlSettings:
    """Settings that plan `horizon_s` ahead in steps of the configured `horizon_step_s`."""
    steps = max(1, math.ceil(horizon_s / settings.horizon_step_s - 1e-9))
    return replace(settings, horizon_steps=steps)


def dry_run(
    site: SiteConfig,
    settings: ControlSettings,
    snapshot: Snapshot,
    now: datetime,
    default_protocol: str,
    solver: AllocationSolver | None = None,
) -> DryRun:
    recorder = _RecordingSolver(solver if solver is not None else Solver())
    # The view shows the site once what is sent is in force: no EV still following.
    controller = Controller(site, replace(settings, reaction_s=0.0), recorder)
    _accept(controller, controller.startup(now), now)
    # the grid operator's cap in force now, as the live runtime would have put it
    lead_s = cap_lead_s(settings, 0.0)
    limit = limit_wanted(site.limits, site.grid_caps, None, now, lead_s)
    early = controller.handle(limit, now)
    early.extend(_accept(controller, early, now))
    targets = charger_targets(site, snapshot, default_protocol)
    commands: list[Command] = []
    for event in snapshot_events(site, snapshot, targets, now):
        commands.extend(controller.handle(event, now))
    commands.extend(controller.handle(Tick(now), now))
    commands.extend(_accept(controller, commands, now))
    to_send = tuple(c for c in [*early, *commands] if targets[c.charger_id].online)
    horizon = None
    money = None
    if recorder.last is not None:
        problem, allocation = recorder.last
        horizon = horizon_plan(site, settings, problem, allocation, to_send, targets)
        money = money_plan(problem.lookahead)
    return DryRun(
        site=site,
        settings=settings,
        now=now,
        view=controller.view(now),
        fallbacks=controller.fallbacks,
        targets=targets,
        payloads=tuple(render(site, targets[c.charger_id], c) for c in to_send),
        horizon=horizon,
        money=money,
        limits=limit_in_force(site.limits, limit).limits,
        limit_reason=limit.reason,
        caps=tuple(
            caps_ahead(site.grid_caps, now, now + timedelta(seconds=_caps_shown_s(settings)))
        ),
    )


def _caps_shown_s(settings: ControlSettings) -> float:
    return max(CAPS_SHOWN_S, settings.horizon_steps * settings.horizon_step_s)


_ANSWER_ROUNDS = 4
"""Accepting a lowering may release a raise held for its room; the exchange is short."""


def _accept(controller: Controller, commands: list[Command], now: datetime) -> list[Command]:
    """Answer `commands` Accepted, as chargers holding every profile they are sent would:
    the dry-run starts from every fallback installed, and shows the state after what it
    sends is in force. Returns what the answers made the controller send in turn."""
    follow_up: list[Command] = []
    pending = list(commands)
    for _ in range(_ANSWER_ROUNDS):
        answers: list[Command] = []
        for command in pending:
            if isinstance(command, SetLimit):
                answer = ProfileAnswer(command, now, accepted=True, status="Accepted")
                answers.extend(controller.handle(answer, now))
        follow_up.extend(answers)
        pending = answers
        if not pending:
            break
    return follow_up


def charger_targets(
    site: SiteConfig, snapshot: Snapshot, default_protocol: str
) -> dict[str, ChargerTarget]:
    targets: dict[str, ChargerTarget] = {}
    for charger in site.chargers:
        state = snapshot.charger(charger.id)
        protocol = state.protocol if state is not None else None
        targets[charger.id] = ChargerTarget(
            charger_id=charger.id,
            protocol=protocol or default_protocol,
            protocol_known=protocol is not None,
            online=state.online if state is not None else True,
            capabilities=state.capabilities if state is not None else None,
        )
    return targets


def snapshot_events(
    site: SiteConfig, snapshot: Snapshot, targets: Mapping[str, ChargerTarget], now: datetime
) -> list[Event]:
    """The events a live site in this state would have produced, oldest facts first."""
    at = snapshot.at or now
    events: list[Event] = []
    for charger in site.chargers:
        target = targets[charger.id]
        if not target.online:
            events.append(ChargerDisconnected(charger.id, at))
            continue
        events.append(ChargerConnected(charger.id, at, target.protocol))
        caps = target.capabilities
        if caps is not None:
            events.append(
                ChargerCapabilities(
                    charger.id,
                    at,
                    max_stack_level=caps.max_stack_level,
                    rate_units=caps.rate_units,
                    max_periods=caps.max_periods,
                    smart_charging=caps.smart_charging,
                )
            )
    for state in snapshot.chargers:
        for connector in state.connectors:
            events.extend(_connector_events(state, connector, at))
    meter = snapshot.meter
    if meter is not None:
        events.append(
            MeterReading(
                SITE_METER_ID,
                meter.at or at,
                valid=meter.valid,
                current_a=meter.current_a,
                reason=meter.reason,
            )
        )
    return events


def _connector_events(
    charger: ChargerSnapshot, connector: ConnectorSnapshot, at: datetime
) -> list[Event]:
    charger_id, connector_id = charger.charger_id, connector.connector_id
    session = connector.session
    events: list[Event] = []
    if connector.status is not None:
        events.append(StatusChanged(charger_id, connector_id, connector.status, at))
    if session is not None:
        events.append(
            SessionStarted(charger_id, connector_id, session.transaction_id, session.started or at)
        )
    if connector.sampled:
        # Before the energy need: the controller counts the need from this register.
        events.append(
            MeterSample(
                charger_id,
                connector_id,
                connector.sampled_at or at,
                transaction_id=None if session is None else session.transaction_id,
                current_a=connector.current_a or (None, None, None),
                power_w=connector.power_w,
                energy_wh=connector.energy_wh,
            )
        )
    if session is not None:
        events.append(
            EnergyNeed(
                charger_id,
                connector_id,
                at,
                energy_wh=session.energy_need_wh,
                departure=session.departure,
                max_current_a=session.ev_max_current_a,
                min_current_a=session.ev_min_current_a,
            )
        )
    return events
