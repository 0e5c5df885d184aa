"""Our EDF and LLF against ACN-Sim's own (acnportal's `SortedSchedulingAlgo`), on small
generated scenarios with the same inputs: the same sessions, the same limits, the same
5-minute steps and the same simulated EV (ours, wrapped as an ACN-Sim battery). The
delivered energy must agree within 0.1 %. On the chargers' 0.1 A grid (`edf_grid`,
`llf_grid`) against ACN-Sim's discrete EVSE (`FiniteRatesEVSE`) with every grid value.

ACN-Sim models a network by linear current constraints, so the scenarios are 1-phase: every
connector on L1, a circuit below the site, a flat base load and, in some, a power cap.
ACN-Sim (`acnportal`) comes with the test extra.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from acnportal import acnsim, algorithms

from ems.replay import ReplayOptions, replay
from ems.replay.engine import ev_max_current_a
from ems.replay.ev import SimulatedEv, battery_size_wh
from ems.replay.scenario import BaseLoadPoint, LimitPoint, Scenario, SessionSpec
from ems.site import ChargerConfig, ConnectorConfig, SiteConfig
from optimizer.problem import Circuit, Phase, SiteLimits

START = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)
STEP_S = 300.0
VOLTAGE_V = 230.0
BASE_A = 10.0


def _scenario(seed: int, power_cap: bool) -> Scenario:
    """Eight 32 A 1-phase connectors on L1, four of them on a 40 A circuit, under a 70 A
    site fuse; arrivals and departures on the 5-minute grid, departures all distinct."""
    rng = random.Random(seed)
    connectors = [
        ConnectorConfig(f"cp{n}", 1, (Phase.L1,), 32.0, circuit="deck" if n < 4 else None)
        for n in range(8)
    ]
    site = SiteConfig(
        name=f"acn-{seed}",
        limits=SiteLimits(phase_limit_a=70.0),
        chargers=tuple(ChargerConfig(c.charger_id, (c,)) for c in connectors),
        circuits=(Circuit("deck", 40.0),),
    )
    departures = rng.sample(range(18, 110), len(connectors))
    sessions = []
    for n, connector in enumerate(connectors):
        arrive = rng.randrange(0, 16)
        sessions.append(
            SessionSpec(
                session_id=f"s{n}",
                connector=connector.key,
                arrival=START + timedelta(seconds=STEP_S * arrive),
                departure=START + timedelta(seconds=STEP_S * max(arrive + 6, departures[n])),
                energy_wh=round(rng.uniform(4.0, 30.0), 1) * 1000.0,
                max_power_w=rng.choice((7_400.0, 3_700.0)),
                phases=1,
            )
        )
    limits = (LimitPoint(START, 70.0, 12_000.0),) if power_cap else ()
    return Scenario(
        site.name,
        site,
        tuple(sessions),
        base_load=(BaseLoadPoint(START, (BASE_A, 0.0, 0.0)),),
        limits=limits,
    )


class _OurBattery(acnsim.Battery):
    """ACN-Sim's battery interface over our simulated EV (its maximum and taper)."""

    def __init__(self, ev: SimulatedEv) -> None:
        super().__init__(ev.battery_wh / 1000.0, 0.0, ev.max_current_a * VOLTAGE_V / 1000.0)
        self._ev = ev

    def charge(self, pilot: float, voltage: float, period: float) -> float:
        return self._ev.charge(pilot, period * 60.0)


def _evse(key: str, max_a: float, on_grid: bool) -> acnsim.BaseEVSE:
    if not on_grid:
        return acnsim.EVSE(key, max_rate=max_a)
    steps = round(max_a * 10)
    return acnsim.FiniteRatesEVSE(key, [n / 10 for n in range(steps + 1)])


def _acnsim_delivered_wh(
    scenario: Scenario, order: str, power_cap: bool, on_grid: bool = False
) -> float:
    network = acnsim.ChargingNetwork()
    connectors = scenario.site.connectors()
    for c in connectors:
        network.register_evse(_evse(c.key, c.max_current_a, on_grid), VOLTAGE_V, 0)
    everyone = [c.key for c in connectors]
    network.add_constraint(acnsim.Current(everyone), 70.0 - BASE_A, name="site")
    deck = [c.key for c in connectors if c.circuit == "deck"]
    network.add_constraint(acnsim.Current(deck), 40.0, name="deck")
    if power_cap:
        network.add_constraint(acnsim.Current(everyone), 12_000.0 / VOLTAGE_V - BASE_A, "cap")
    by_key = {c.key: c for c in connectors}
    events = []
    for s in scenario.sessions:
        ev = SimulatedEv(
            max_current_a=ev_max_current_a(by_key[s.connector], s, VOLTAGE_V),
            phases=1,
            voltage_v=VOLTAGE_V,
            energy_wh=s.energy_wh,
            battery_wh=battery_size_wh(s.energy_wh, s.battery_wh),
        )
        arrival = round((s.arrival - START).total_seconds() / STEP_S)
        departure = round((s.departure - START).total_seconds() / STEP_S)
        acn_ev = acnsim.EV(
            arrival, departure, s.energy_wh / 1000.0, s.connector, s.session_id, _OurBattery(ev)
        )
        events.append(acnsim.PluginEvent(arrival, acn_ev))
    sort_fn = {
        "edf": algorithms.earliest_deadline_first,
        "llf": algorithms.least_laxity_first,
    }[order]
    simulator = acnsim.Simulator(
        network,
        algorithms.SortedSchedulingAlgo(sort_fn),
        acnsim.EventQueue(events),
        START,
        period=STEP_S / 60.0,
        verbose=False,
    )
    simulator.run()
    return 1000.0 * sum(ev.energy_delivered for ev in simulator.ev_history.values())


@pytest.mark.parametrize("order", ["edf", "llf"])
@pytest.mark.parametrize(("seed", "power_cap"), [(1, False), (2, False), (3, True)])
def test_our_edf_and_llf_deliver_what_acnsim_does(order: str, seed: int, power_cap: bool) -> None:
    scenario = _scenario(seed, power_cap)
    ours = replay(scenario, order, ReplayOptions(step_s=STEP_S, min_current_a=0.0))
    ours_wh = sum(o.delivered_wh for o in ours.sessions)
    requested_wh = sum(s.energy_wh for s in scenario.sessions)
    theirs_wh = _acnsim_delivered_wh(scenario, order, power_cap)
    # The limits bind: otherwise the check says nothing about the order.
    assert ours_wh < 0.98 * requested_wh
    assert ours_wh == pytest.approx(theirs_wh, rel=1e-3)


@pytest.mark.parametrize("order", ["edf", "llf"])
def test_on_the_grid_they_deliver_what_acnsim_does_with_discrete_evses(order: str) -> None:
    scenario = _scenario(3, True)
    options = ReplayOptions(step_s=STEP_S, min_current_a=0.0)
    ours = replay(scenario, f"{order}_grid", options)
    continuous = replay(scenario, order, options)
    ours_wh = sum(o.delivered_wh for o in ours.sessions)
    continuous_wh = sum(o.delivered_wh for o in continuous.sessions)
    # Finishing currents and the room left by them are off the grid here: the grid costs.
    assert ours_wh < continuous_wh - 1.0
    assert ours_wh == pytest.approx(_acnsim_delivered_wh(scenario, order, True, True), rel=1e-3)
