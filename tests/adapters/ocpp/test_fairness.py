"""One charger flooding the central system does not hold up the others.

Measured in messages, not in milliseconds: how many of the flooder's MeterValues the
central system handled (and stored) while a quiet charger waited for one answer.
"""

from __future__ import annotations

import asyncio
import json

from adapters.ocpp import CentralSystem
from ems.events import MeterSample
from tests.adapters.ocpp.stations import Events, RawClient, raw_client

FLOOD = 2000
QUIET_CALLS = 10
FAIR_SHARE = 10
"""Flood messages a quiet round trip may wait for: the round trip takes a handful of
turns of the event loop, and the flooder is served once per turn."""

METER_VALUES = {
    "connectorId": 1,
    "meterValue": [
        {
            "timestamp": "2024-05-01T12:00:00Z",
            "sampledValue": [
                {"value": "1000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
            ],
        }
    ],
}


def stored(events: Events) -> int:
    return len(events.of(MeterSample))


async def flood(charger: RawClient) -> None:
    for n in range(FLOOD):
        await charger.send(json.dumps([2, f"f{n}", "MeterValues", METER_VALUES]))


async def count_answers(charger: RawClient) -> int:
    answers = 0
    for _ in range(FLOOD):
        answers += (await charger.receive(within_s=30))[0] == 3
    return answers


async def flood_handled_during_a_heartbeat(quiet: RawClient, events: Events, n: int) -> int:
    before = stored(events)
    answer = await quiet.call(f"q{n}", "Heartbeat", {})
    assert answer[:2] == [3, f"q{n}"]
    return stored(events) - before


async def test_a_flooding_charger_does_not_hold_up_a_quiet_one(
    system: CentralSystem, events: Events
) -> None:
    async with (
        raw_client(system, "CP1", "ocpp1.6") as quiet,
        raw_client(system, "CP2", "ocpp1.6") as flooder,
    ):
        baseline = [await flood_handled_during_a_heartbeat(quiet, events, n) for n in range(3)]
        sending = asyncio.create_task(flood(flooder))
        answering = asyncio.create_task(count_answers(flooder))
        await events.wait_for(MeterSample, lambda _: stored(events) >= 20)  # flood under way
        waited = [
            await flood_handled_during_a_heartbeat(quiet, events, n)
            for n in range(3, 3 + QUIET_CALLS)
        ]
        handled_when_quiet_done = stored(events)
        await sending
        answered = await answering
    assert baseline == [0, 0, 0]
    assert max(waited) <= FAIR_SHARE, waited
    assert handled_when_quiet_done < FLOOD // 2
    # The flooder is slowed down, not dropped: every one of its CALLs was answered.
    assert answered == FLOOD
    assert stored(events) == FLOOD
