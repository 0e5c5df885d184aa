"""The dispatcher sends a charger's fallback profile once per connection, and answers the
controller for every time it gave it: a repeat left unanswered is counted as a profile
that may still be coming, and its connector unproven."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import cast

from adapters.ocpp.server import CentralSystem
from adapters.runtime.counters import RuntimeCounters
from adapters.runtime.dispatch import Dispatcher
from ems.commands import LimitPeriod, ProfilePurpose, SetLimit
from ems.events import ProfileAnswer

AT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


class SlowCharger:
    """Stands in for the central system: one connected charger that answers each profile
    Accepted once the test lets it."""

    def __init__(self) -> None:
        self.sent: list[SetLimit] = []
        self.answer = asyncio.Event()

    def is_connected(self, charger_id: str) -> bool:
        return True

    async def send(self, command: SetLimit) -> ProfileAnswer:
        self.sent.append(command)
        await self.answer.wait()
        return ProfileAnswer(command, AT, True, "Accepted")


def default(reason: str) -> SetLimit:
    return SetLimit("cp1", 1, ProfilePurpose.TX_DEFAULT, (LimitPeriod(0, 8.0),), AT, reason)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_repeated_fallback_is_sent_once_and_every_copy_answered() -> None:
    charger = SlowCharger()
    answers: list[ProfileAnswer] = []
    dispatcher = Dispatcher(cast(CentralSystem, charger), answers.append, RuntimeCounters())
    first, second, third = default("socket open"), default("boot accepted"), default("again")

    dispatcher.dispatch([first])
    await settle()
    dispatcher.dispatch([second])  # while the first is on its way
    await settle()
    assert answers == []
    charger.answer.set()
    await settle()
    assert [(a.command, a.accepted) for a in answers] == [(first, True), (second, True)]

    dispatcher.dispatch([third])  # once installed: answered at once
    assert [(a.command.reason, a.status) for a in answers[2:]] == [("again", "Accepted")]
    assert charger.sent == [first]

    dispatcher.charger_disconnected("cp1")  # a new connection holds nothing
    dispatcher.dispatch([default("reconnected")])
    await settle()
    assert [c.reason for c in charger.sent] == ["socket open", "reconnected"]
    await dispatcher.stop()
