"""Replay a scenario under a named strategy."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import replace

from ems.replay.baselines import (
    EqualShare,
    FirstComeFirstServed,
    RoundRobin,
    SortedGreedy,
    Uncontrolled,
)
from ems.replay.controller_strategy import ControllerStrategy, replay_settings
from ems.replay.engine import ProgressCallback, ReplayOptions, apply_options, run_replay
from ems.replay.offline import ScheduleStrategy, plan_offline
from ems.replay.result import ReplayResult
from ems.replay.scenario import Scenario
from ems.replay.strategy import Strategy
from ems.replay.timeline import build_timeline
from ems.site import ControlSettings
from optimizer.solver import Solver

STRATEGIES = (
    "uncontrolled",
    "equal",
    "fcfs",
    "round_robin",
    "edf",
    "llf",
    "edf_grid",
    "llf_grid",
    "optimal",
    "offline",
)
"""Every strategy `replay` knows, in the order a comparison lists them. `round_robin`, `edf`
and `llf` are the research baselines as ACN-Sim defines them (`ems.replay.baselines`);
`edf_grid` and `llf_grid` the same on the chargers' 0.1 A grid, as a controller on the
wire must send its limits."""


def replay(
    scenario: Scenario,
    strategy: str,
    options: ReplayOptions | None = None,
    control: ControlSettings | None = None,
    progress: ProgressCallback | None = None,
    stated: Collection[str] = (),
) -> ReplayResult:
    """Replay `scenario` under `strategy` (one of `STRATEGIES`).

    `control` tunes the controller of the `optimal` strategy (its time bounds are adapted
    to the step, see `replay_settings`); `stated` names the `[control]` keys the scenario
    states, which win over the replay's policy (`REPLAY_POLICY`). For `offline`,
    `decide_ms` holds the LP solve times and `wall_seconds` includes them.
    """
    options = options or ReplayOptions()
    scenario = apply_options(scenario, options)
    timeline = build_timeline(scenario, options.step_s)
    if strategy == "offline":
        began = time.perf_counter()
        plan = plan_offline(scenario, timeline)
        planned_s = time.perf_counter() - began
        result = run_replay(
            scenario, timeline, ScheduleStrategy(scenario, plan.current_a), strategy, progress
        )
        return replace(
            result, decide_ms=plan.solve_ms, wall_seconds=result.wall_seconds + planned_s
        )
    chosen = _online(strategy, scenario, options, control or ControlSettings(), stated)
    result = run_replay(scenario, timeline, chosen, strategy, progress)
    if isinstance(chosen, ControllerStrategy):
        result = replace(result, fallback_steps=chosen.fallback_steps)
    return result


def _online(
    name: str,
    scenario: Scenario,
    options: ReplayOptions,
    control: ControlSettings,
    stated: Collection[str] = (),
) -> Strategy:
    if name == "uncontrolled":
        return Uncontrolled()
    if name == "equal":
        return EqualShare(scenario.site)
    if name == "fcfs":
        return FirstComeFirstServed(scenario.site)
    if name == "round_robin":
        return RoundRobin(scenario.site)
    if name in ("edf", "llf"):
        return SortedGreedy(scenario.site, name)
    if name in ("edf_grid", "llf_grid"):
        return SortedGreedy(scenario.site, name.removesuffix("_grid"), on_grid=True)
    if name == "optimal":
        settings = replay_settings(control, options.step_s, stated)
        return ControllerStrategy(scenario.priced_site, settings, Solver())
    raise ValueError(f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}")
