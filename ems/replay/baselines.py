"""The simple strategies the optimizer is measured against.

They see what a basic load manager sees: who is plugged in, who has stopped drawing
(SuspendedEV), the meter and the limit. They do not learn an EV's maximum or its battery
tail from its draw. A share below a connector's minimum current is not given: such EVs
are paused, the latest arrival first.
"""

from __future__ import annotations

from collections.abc import Mapping

from ems.replay.capacity import Capacity
from ems.replay.view import PluggedEv, StepView
from ems.site import SiteConfig


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
