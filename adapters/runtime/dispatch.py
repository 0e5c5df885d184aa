"""Sending the controller's commands to the chargers, and its answers back.

Each command goes out as its own task, so a slow charger holds up nobody else; commands
to one charger go out in the order the controller gave them (a lower limit must not be
overtaken by the higher one before it). The charger's answer to a `SetLimit` goes back to
the controller as the `ProfileAnswer` it expects. A command for a charger that is not
connected is answered `Offline` at once, without waiting for a timeout.

The controller hands out a charger's fallback profiles (station maximum and per-connector
default) each time it hears the charger connected, and the central system says so twice
for one connection: when the socket opens and when the boot is accepted. A fallback that
is already installed (or on its way) over the present connection is therefore not sent
again, but answered as the one sent was (at once, or when that answer comes): the
controller counts every profile it gave as unanswered until it hears back. After a
disconnect everything is sent afresh.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable, Iterable
from dataclasses import replace
from typing import Any

from adapters.ocpp.results import CallStatus
from adapters.ocpp.server import CentralSystem
from adapters.ocpp.timestamps import utc_now
from adapters.runtime.counters import RuntimeCounters
from ems.commands import ClearLimit, Command, ProfilePurpose, SetLimit
from ems.events import ProfileAnswer

LOG = logging.getLogger(__name__)

AnswerSink = Callable[[ProfileAnswer], None]
_FALLBACKS = (ProfilePurpose.STATION_MAX, ProfilePurpose.TX_DEFAULT)


class Dispatcher:
    def __init__(
        self, central: CentralSystem, on_answer: AnswerSink, counters: RuntimeCounters
    ) -> None:
        self._central = central
        self._on_answer = on_answer
        self._counters = counters
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._installed: dict[_Key, Hashable] = {}
        """Fallbacks installed or in flight over each charger's present connection."""
        self._answered: dict[_Key, ProfileAnswer] = {}
        """The answers to those installed: what a repeat of one is answered."""
        self._repeats: dict[_Key, list[SetLimit]] = {}
        """Repeats of those in flight, answered with them."""

    def dispatch(self, commands: Iterable[Command]) -> None:
        """Start sending `commands`; returns at once."""
        for command in commands:
            if not self._central.is_connected(command.charger_id):
                self._answer_offline(command)
                continue
            if isinstance(command, SetLimit) and self._already_installed(command):
                LOG.debug(
                    "%s/%s: %s profile already installed over this connection",
                    command.charger_id,
                    command.connector_id,
                    command.purpose.value,
                )
                self._answer_repeat(command)
                continue
            task = asyncio.get_running_loop().create_task(
                self._send_in_order(command), name=f"send {command.charger_id}"
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def charger_disconnected(self, charger_id: str) -> None:
        """Forget what the charger's last connection holds: send it all again next time."""
        for key in [k for k in self._installed if k[0] == charger_id]:
            del self._installed[key]
            self._answered.pop(key, None)

    async def stop(self) -> None:
        """Abandon the sends still in flight (the chargers keep their fallbacks)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _answer_offline(self, command: Command) -> None:
        LOG.debug(
            "%s/%s: not connected; %s not sent",
            command.charger_id,
            command.connector_id,
            command.purpose.value,
        )
        if isinstance(command, SetLimit):
            self._on_answer(
                ProfileAnswer(command, utc_now(), False, CallStatus.OFFLINE, "not connected")
            )

    def _already_installed(self, command: SetLimit) -> bool:
        if command.purpose not in _FALLBACKS:
            return False
        key = _key(command)
        signature = _signature(command)
        if self._installed.get(key) == signature:
            return True
        self._installed[key] = signature
        return False

    def _answer_repeat(self, command: SetLimit) -> None:
        """Answer a repeat of an installed fallback as that one was answered, or with it."""
        key = _key(command)
        answered = self._answered.get(key)
        if answered is None:
            self._repeats.setdefault(key, []).append(command)
            return
        self._on_answer(replace(answered, command=command, at=utc_now()))

    async def _send_in_order(self, command: Command) -> None:
        lock = self._locks.setdefault(command.charger_id, asyncio.Lock())
        async with lock:
            if isinstance(command, SetLimit):
                await self._send_limit(command)
            else:
                await self._send_clear(command)

    async def _send_limit(self, command: SetLimit) -> None:
        LOG.info(
            "%s/%s: %s limit %.1f A%s — %s",
            command.charger_id,
            command.connector_id,
            command.purpose.value,
            command.limit_now_a,
            "" if command.duration_s is None else f" for {command.duration_s:.0f} s",
            command.reason,
        )
        self._counters.profiles_sent += 1
        try:
            answer = await self._central.send(command)
        except Exception as error:  # a bug in rendering or sending must not stop the loop
            LOG.exception("%s: sending a profile failed", command.charger_id)
            answer = ProfileAnswer(command, utc_now(), False, "Failed", str(error))
        if not answer.accepted:
            self._counters.profiles_rejected += 1
            self._forget(command)
            LOG.warning(
                "%s/%s: %s profile not accepted: %s%s",
                command.charger_id,
                command.connector_id,
                command.purpose.value,
                answer.status,
                f" ({answer.detail})" if answer.detail else "",
            )
        elif command.purpose in _FALLBACKS:
            self._answered[_key(command)] = answer
        self._on_answer(answer)
        if command.purpose in _FALLBACKS:
            for repeat in self._repeats.pop(_key(command), []):
                self._on_answer(replace(answer, command=repeat))

    async def _send_clear(self, command: ClearLimit) -> None:
        LOG.info(
            "%s/%s: clearing %s profile — %s",
            command.charger_id,
            command.connector_id,
            command.purpose.value,
            command.reason,
        )
        result = await self._central.send(command)
        if not result.ok:
            LOG.warning(
                "%s/%s: clearing %s profile failed: %s",
                command.charger_id,
                command.connector_id,
                command.purpose.value,
                result.status,
            )

    def _forget(self, command: SetLimit) -> None:
        key = _key(command)
        if self._installed.get(key) == _signature(command):
            del self._installed[key]


_Key = tuple[str, int, ProfilePurpose]


def _key(command: SetLimit) -> _Key:
    return (command.charger_id, command.connector_id, command.purpose)


def _signature(command: SetLimit) -> Hashable:
    """What makes two fallback commands the same profile (not when or why they were made)."""
    return (
        command.periods,
        command.duration_s,
        command.stack_level,
        command.voltage_v,
        command.attempt,
    )
