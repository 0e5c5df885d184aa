"""A controller, a fake clock and a fake solver, with short verbs for tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from ems.commands import Command, ProfilePurpose, SetLimit
from ems.controller import Controller
from ems.events import (
    ChargerConnected,
    ChargerDisconnected,
    ConnectorStatus,
    Event,
    MeterReading,
    MeterSample,
    PhaseValues,
    ProfileAnswer,
    SessionEnded,
    SessionStarted,
    StatusChanged,
    Tick,
)
from ems.site import ControlSettings, SiteConfig
from ems.solver_port import AllocationSolver
from tests.ems.fakes import Clock, FairShareSolver, ScriptedSolver, connector, site

INSTALLED_BEFORE = timedelta(hours=1)
"""The chargers took their fallbacks this long before the test starts."""


@dataclass
class Harness:
    """The chargers hold their fallbacks from before the test starts (unless `installed` is
    False). `accept` True plays chargers that accept every profile at once; False leaves
    every answer to the test."""

    site: SiteConfig
    settings: ControlSettings = field(default_factory=ControlSettings)
    solver: AllocationSolver = field(default_factory=ScriptedSolver)
    clock: Clock = field(default_factory=Clock)
    accept: bool = True
    installed: bool = True
    """False: a fresh site, where no charger has confirmed any profile yet."""
    controller: Controller = field(init=False)

    def __post_init__(self) -> None:
        self.controller = Controller(self.site, self.settings, self.solver)
        if not self.installed:
            return
        installed_at = self.clock.now - INSTALLED_BEFORE
        for command in self.controller.startup(self.clock.now):
            assert isinstance(command, SetLimit)
            self.controller.handle(
                ProfileAnswer(command, installed_at, True, "Accepted"), self.clock.now
            )

    @property
    def scripted(self) -> ScriptedSolver:
        assert isinstance(self.solver, ScriptedSolver)
        return self.solver

    def send(self, event: Event) -> list[Command]:
        commands = self.controller.handle(event, self.clock.now)
        if not self.accept or isinstance(event, ProfileAnswer):
            return commands
        return commands + self._accepted(commands)

    def _accepted(self, commands: list[Command]) -> list[Command]:
        """Answer every SetLimit Accepted; returns what the answers made the controller
        send (a raise held for room the answers freed), answered too."""
        follow_up: list[Command] = []
        for command in commands:
            if isinstance(command, SetLimit):
                answer = ProfileAnswer(command, self.clock.now, True, "Accepted")
                more = self.controller.handle(answer, self.clock.now)
                follow_up += more + self._accepted(more)
        return follow_up

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def meter(self, amps: tuple[float, float, float], valid: bool = True) -> list[Command]:
        reason = None if valid else "timeout"
        return self.send(MeterReading("main", self.clock.now, valid, amps, reason=reason))

    def start(self, charger_id: str, tx: str, connector_id: int = 1) -> list[Command]:
        self.send(StatusChanged(charger_id, connector_id, ConnectorStatus.CHARGING, self.clock.now))
        return self.send(SessionStarted(charger_id, connector_id, tx, self.clock.now))

    def end(self, charger_id: str, tx: str, connector_id: int = 1) -> list[Command]:
        self.send(SessionEnded(charger_id, connector_id, tx, self.clock.now))
        return self.send(
            StatusChanged(charger_id, connector_id, ConnectorStatus.AVAILABLE, self.clock.now)
        )

    def sample(self, charger_id: str, amps: PhaseValues, connector_id: int = 1) -> list[Command]:
        return self.send(MeterSample(charger_id, connector_id, self.clock.now, current_a=amps))

    def connect(self, charger_id: str) -> list[SetLimit]:
        return set_limits(self.send(ChargerConnected(charger_id, self.clock.now, "ocpp1.6")))

    def disconnect(self, charger_id: str) -> list[Command]:
        return self.send(ChargerDisconnected(charger_id, self.clock.now))

    def answer(self, command: SetLimit, accepted: bool, status: str = "Rejected") -> list[SetLimit]:
        return set_limits(self.send(ProfileAnswer(command, self.clock.now, accepted, status)))

    def tick(self) -> list[SetLimit]:
        return set_limits(self.send(Tick(self.clock.now)))

    def limit_of(self, key: str) -> float:
        return self.controller.view().connectors[self._index(key)].limit_a

    def _index(self, key: str) -> int:
        keys = [c.key for c in self.controller.view().connectors]
        return keys.index(key)


def set_limits(commands: list[Command]) -> list[SetLimit]:
    """The commands, all of which are SetLimit (the core emits no ClearLimit yet)."""
    assert all(isinstance(c, SetLimit) for c in commands)
    return [c for c in commands if isinstance(c, SetLimit)]


def tx_limits(commands: list[SetLimit]) -> dict[str, float]:
    return {
        f"{c.charger_id}/{c.connector_id}": c.limit_now_a
        for c in commands
        if c.purpose is ProfilePurpose.TX
    }


def two_sessions_at_their_share(limit_a: float = 32) -> Harness:
    """Base load 10 A, two 3-phase sessions at 11 A each, sampled and metered at 10 s."""
    s = site(connector("a"), connector("b"), limit_a=limit_a, worst_a=(10, 10, 10))
    h = Harness(s, ControlSettings(period_s=10, min_update_interval_s=0), FairShareSolver())
    h.meter((10, 10, 10))
    h.start("a", "T1")
    h.start("b", "T2")
    h.tick()
    h.advance(10)
    h.sample("a", (11, 11, 11))
    h.sample("b", (11, 11, 11))
    h.meter((32, 32, 32))
    h.tick()
    assert (h.limit_of("a/1"), h.limit_of("b/1")) == (11, 11)
    return h
