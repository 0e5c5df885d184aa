"""The simple strategies the optimizer is measured against.

`Uncontrolled`, `FirstComeFirstServed` and `EqualShare` see what a basic load manager
sees: who is plugged in, who has stopped drawing (SuspendedEV), the meter and the limit.
They do not learn an EV's maximum or its battery tail from its draw. A share below a
connector's minimum current is not given: such EVs are paused, the latest arrival first.

`SortedGreedy` (EDF, LLF) and `RoundRobin` are the research baselines as the ACN-Sim
simulator defines them; they also know each session's request and departure (see below).
`SortedGreedy` also runs on the chargers' grid (`edf_grid`, `llf_grid`), as ACN-Sim
schedules EVSEs whose pilot takes only some values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ems.replay.capacity import Capacity
from ems.replay.view import PluggedEv, StepView
from ems.rounding import grid_floor
from ems.site import SiteConfig
from optimizer.problem import Phase


def _charging(view: StepView) -> list[PluggedEv]:
    """The EVs still drawing, first arrival first."""
    evs = [ev for ev in view.plugged if not ev.suspended]
    evs.sort(key=lambda ev: (ev.session.arrival, ev.session.session_id))
    return evs


def _capacity(site: SiteConfig, view: StepView) -> Capacity:
    return Capacity(site, view.base_load_a, view.phase_limit_a, view.power_limit_w)


class Uncontrolled:
    """No load management: every EV draws as much as it and its connector can."""

    def decide(self, view: StepView) -> Mapping[str, float]:
        return {ev.connector.key: ev.connector.max_current_a for ev in view.plugged}


class FirstComeFirstServed:
    """In order of arrival, each EV gets its connector's maximum or whatever is left."""

    def __init__(self, site: SiteConfig) -> None:
        self._site = site

    def decide(self, view: StepView) -> Mapping[str, float]:
        capacity = _capacity(self._site, view)
        limits = {ev.connector.key: 0.0 for ev in view.plugged}
        for ev in _charging(view):
            path = capacity.path(ev.connector)
            current_a = min(ev.connector.max_current_a, capacity.headroom_a(path, ev.site_phases))
            if current_a < max(ev.connector.min_current_a, 1e-9):
                continue
            capacity.take(path, ev.site_phases, current_a)
            limits[ev.connector.key] = current_a
        return limits


class EqualShare:
    """Every charging EV gets the same share of the capacity on its own bottleneck (the
    site or circuit phase it shares with the most EVs), up to its connector's maximum.
    Capacity an EV leaves unused is not handed on."""

    def __init__(self, site: SiteConfig) -> None:
        self._site = site

    def decide(self, view: StepView) -> Mapping[str, float]:
        capacity = _capacity(self._site, view)
        limits = {ev.connector.key: 0.0 for ev in view.plugged}
        sharing = _charging(view)
        while sharing:
            shares = self._shares(capacity, sharing)
            short = [
                i
                for i, ev in enumerate(sharing)
                if min(shares[i], ev.connector.max_current_a) < ev.connector.min_current_a
            ]
            if not short:
                for ev, share in zip(sharing, shares, strict=True):
                    limits[ev.connector.key] = min(share, ev.connector.max_current_a)
                break
            del sharing[short[-1]]
        return limits

    @staticmethod
    def _shares(capacity: Capacity, evs: list[PluggedEv]) -> list[float]:
        paths = [capacity.path(ev.connector) for ev in evs]
        counts: dict[tuple[str, int], int] = {}
        for ev, path in zip(evs, paths, strict=True):
            for node in path:
                for phase in ev.site_phases:
                    counts[node, phase] = counts.get((node, phase), 0) + 1
        power_w = capacity.remaining_power_w()
        phases_total = sum(len(ev.site_phases) for ev in evs)
        shares = []
        for ev, path in zip(evs, paths, strict=True):
            share = min(
                capacity.remaining_a(node, phase) / counts[node, phase]
                for node in path
                for phase in ev.site_phases
            )
            if power_w is not None:
                share = min(share, power_w / (capacity.voltage_v * phases_total))
            shares.append(max(0.0, share))
        return shares


# --- The research baselines, as the ACN-Sim simulator (acnportal) defines them ---------
#
# They schedule with what ACN-Sim's scheduler is told: each session's requested energy,
# what it has drawn so far, its departure and its connector (EVSE); not the EV's own
# maximum or battery. Currents are continuous; each session is capped by its connector's
# maximum and by the current that would deliver its remainder within one step.


def _remaining_wh(ev: PluggedEv) -> float:
    return max(0.0, ev.session.energy_wh - ev.delivered_wh)


def _open(view: StepView) -> list[PluggedEv]:
    """The EVs whose request is not yet met (ACN-Sim's `remove_finished_sessions`)."""
    return [ev for ev in view.plugged if _remaining_wh(ev) > 1e-9 and not ev.suspended]


def _upper_bound_a(ev: PluggedEv, step_s: float, voltage_v: float) -> float:
    """ACN-Sim's `ub`: the connector's maximum, or the per-phase current that delivers the
    remainder within one step if that is less. Never below the connector's minimum (an EV
    stops by itself once its request is met)."""
    per_step_a = _remaining_wh(ev) * 3600.0 / (voltage_v * len(ev.site_phases) * step_s)
    return min(ev.connector.max_current_a, max(per_step_a, ev.connector.min_current_a))


def _by_arrival(ev: PluggedEv) -> tuple[float, str]:
    return (ev.session.arrival.timestamp(), ev.session.session_id)


class SortedGreedy:
    """ACN-Sim's `SortedSchedulingAlgo`: the open sessions in the order of `key`, each
    given the most that still fits under every site phase, circuit and the power cap, up
    to its upper bound. ACN-Sim bisects for that current; here it is computed exactly. A
    session whose minimum no longer fits gets 0 (ACN-Sim raises instead).

    With `on_grid`, currents take only the chargers' grid values (`ems.rounding.GRID_A`,
    OCPP's one decimal): ACN-Sim's discrete EVSE (`FiniteRatesEVSE` with every grid value
    up to the maximum), given the largest allowed value within its bounds that fits. The
    continuous baselines use current no charger can be sent: where a limit binds, up to a
    grid step of each phase that a controller on the wire leaves unused."""

    def __init__(self, site: SiteConfig, name: str, *, on_grid: bool = False) -> None:
        if name not in SORT_KEYS:
            raise ValueError(f"unknown order {name!r}; choose from {', '.join(SORT_KEYS)}")
        self._site = site
        self._key = SORT_KEYS[name]
        self._on_grid = on_grid

    def decide(self, view: StepView) -> Mapping[str, float]:
        capacity = _capacity(self._site, view)
        voltage_v = capacity.voltage_v
        limits = {ev.connector.key: 0.0 for ev in view.plugged}
        for ev in sorted(_open(view), key=lambda e: self._key(e, view, voltage_v)):
            path = capacity.path(ev.connector)
            upper_a = _upper_bound_a(ev, view.step_s, voltage_v)
            current_a = min(upper_a, capacity.headroom_a(path, ev.site_phases))
            if self._on_grid:
                current_a = grid_floor(current_a)
            if current_a < max(ev.connector.min_current_a, 1e-9):
                continue
            capacity.take(path, ev.site_phases, current_a)
            limits[ev.connector.key] = current_a
        return limits


def _deadline(ev: PluggedEv, view: StepView, voltage_v: float) -> tuple[float, float, str]:
    """ACN-Sim's `earliest_deadline_first`: by departure (ties: first arrival first)."""
    return (ev.session.departure.timestamp(), *_by_arrival(ev))


def _laxity(ev: PluggedEv, view: StepView, voltage_v: float) -> tuple[float, float, str]:
    """ACN-Sim's `least_laxity_first`: time left minus the time the remainder takes at the
    connector's maximum, in seconds (ties: earliest departure first)."""
    left_s = (ev.session.departure - view.now).total_seconds()
    full_w = ev.connector.max_current_a * len(ev.site_phases) * voltage_v
    needed_s = _remaining_wh(ev) * 3600.0 / full_w if full_w > 0 else float("inf")
    return (left_s - needed_s, ev.session.departure.timestamp(), ev.session.session_id)


SortKey = Callable[[PluggedEv, StepView, float], tuple[float, float, str]]

SORT_KEYS: dict[str, SortKey] = {"edf": _deadline, "llf": _laxity}
"""The orders `SortedGreedy` knows, by strategy name."""


class RoundRobin:
    """ACN-Sim's `RoundRobin` in the limit of a small increment: every open session starts
    at its minimum (first arrival first, paused if that no longer fits) and all rise
    together, one equal step at a time, each stopping at its upper bound or when a site
    phase, circuit or the power cap it uses is full. Unlike `EqualShare`, what one session
    cannot use goes to the others (progressive filling, i.e. max-min fairness)."""

    def __init__(self, site: SiteConfig) -> None:
        self._site = site

    def decide(self, view: StepView) -> Mapping[str, float]:
        capacity = _capacity(self._site, view)
        voltage_v = capacity.voltage_v
        limits = {ev.connector.key: 0.0 for ev in view.plugged}
        rising: list[tuple[PluggedEv, tuple[str, ...], float]] = []
        for ev in sorted(_open(view), key=_by_arrival):
            path = capacity.path(ev.connector)
            minimum_a = ev.connector.min_current_a
            if minimum_a > capacity.headroom_a(path, ev.site_phases) + 1e-9:
                continue
            capacity.take(path, ev.site_phases, minimum_a)
            limits[ev.connector.key] = minimum_a
            rising.append((ev, path, _upper_bound_a(ev, view.step_s, voltage_v)))
        while rising:
            rising = [r for r in rising if limits[r[0].connector.key] < r[2] - 1e-9]
            counts: dict[tuple[str, Phase], int] = {}
            for ev, path, _ in rising:
                for node in path:
                    for phase in ev.site_phases:
                        counts[node, phase] = counts.get((node, phase), 0) + 1
            if not rising:
                break
            step_a = min(upper - limits[ev.connector.key] for ev, _, upper in rising)
            for (node, phase), count in counts.items():
                step_a = min(step_a, capacity.remaining_a(node, phase) / count)
            power_w = capacity.remaining_power_w()
            if power_w is not None:
                phases_total = sum(len(ev.site_phases) for ev, _, _ in rising)
                step_a = min(step_a, power_w / (voltage_v * phases_total))
            step_a = max(0.0, step_a)
            for ev, path, _ in rising:
                capacity.take(path, ev.site_phases, step_a)
                limits[ev.connector.key] += step_a
            full = {(n, p) for n, p in counts if capacity.remaining_a(n, p) <= 1e-9}
            power_w = capacity.remaining_power_w()
            if power_w is not None and power_w <= 1e-6:
                break
            rising = [
                r
                for r in rising
                if not any((node, p) in full for node in r[1] for p in r[0].site_phases)
            ]
        return limits
