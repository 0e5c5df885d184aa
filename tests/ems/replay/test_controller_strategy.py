"""What the replayed controller is told: the events a live OCPP 2.0.1 site produces."""

from __future__ import annotations

from datetime import datetime

import pytest

from ems.controller import Controller
from ems.events import EnergyNeed, Event
from ems.replay import replay
from ems.replay.engine import ev_max_current_a
from ems.replay.synthetic import small


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
