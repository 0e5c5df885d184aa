"""What the replayed controller is told: the events a live OCPP 2.0.1 site produces."""

from __future__ import annotations

from datetime import datetime

import pytest

from ems.controller import Controller
from ems.events import EnergyNeed, Event
from ems.replay import replay
from ems.replay.controller_strategy import REPLAY_POLICY, replay_settings
from ems.replay.engine import ev_max_current_a
from ems.replay.synthetic import small
from ems.site import ControlSettings


def test_each_ev_states_its_need_departure_and_maximum_current_as_it_arrives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As NotifyEVChargingNeeds carries them: the energy, the departure, and the EV's
    maximum per-phase current on its connector (a 7.4 kW 3-phase car takes 10.7 A, not
    the connector's 16 A)."""
    needs: list[EnergyNeed] = []
    handle = Controller.handle

    def recording(self: Controller, event: Event, now: datetime) -> list[object]:
        if isinstance(event, EnergyNeed):
            needs.append(event)
        return handle(self, event, now)

    monkeypatch.setattr(Controller, "handle", recording)
    scenario = small()
    replay(scenario, "optimal")
    connectors = scenario.connectors_by_key()
    voltage_v = scenario.site.limits.voltage_v
    stated = {f"{n.charger_id}/{n.connector_id}": n for n in needs}
    assert len(needs) == len(scenario.sessions) == len(stated)
    for session in scenario.sessions:
        need = stated[session.connector]
        assert need.energy_wh == session.energy_wh
        assert need.departure == session.departure
        expected_a = ev_max_current_a(connectors[session.connector], session, voltage_v)
        assert need.max_current_a == pytest.approx(expected_a)
    assert any(n.max_current_a is not None and n.max_current_a < 16.0 for n in needs)


def test_replay_keeps_the_scenarios_stated_policy_and_its_own_elsewhere() -> None:
    """A switch the scenario's `[control]` states is kept; one it does not state takes the
    replay's (`REPLAY_POLICY`); only the period and the reaction time are the replay's."""
    scenario = ControlSettings(lookahead=False, reserve_for_arrivals=True, deadband_a=0.5)
    stated = replay_settings(scenario, 300.0, stated=("lookahead", "reserve_for_arrivals"))
    assert not stated.lookahead
    assert stated.reserve_for_arrivals
    assert stated.priority_from_laxity is REPLAY_POLICY["priority_from_laxity"]
    assert (stated.period_s, stated.reaction_s, stated.deadband_a) == (300.0, 0.0, 0.5)
    unstated = replay_settings(scenario, 300.0)
    assert unstated.lookahead is REPLAY_POLICY["lookahead"]
    assert unstated.reserve_for_arrivals is REPLAY_POLICY["reserve_for_arrivals"]
