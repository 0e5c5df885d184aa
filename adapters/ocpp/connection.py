"""One charger's OCPP-J connection: the single place where frames are routed.

`ocpp.ChargePoint` is kept for its `@on` routing; its message handling is replaced here
because as shipped it only logs a frame that is not OCPP, answers an unknown action with
`NotSupported`, answers a repeated message id twice, uses the 2.0.1 error-code spellings
for 1.6, turns a CALLERROR into `None` and drops `@after` exceptions. Here:

- every CALL gets exactly one answer: its CALLRESULT or a CALLERROR named as the
  charger's protocol version names it; a repeated message id is not handled again;
- outbound calls are queued, one in flight per charger, and always return a `CallResult`;
- work that must follow an answer (probing after a boot) runs as a task started after
  the answer went out, so a handler never waits on the charger it is answering, and a
  failing task is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, is_dataclass
from typing import Any, ClassVar
from uuid import uuid4

import ocpp.messages
from ocpp.charge_point import ChargePoint
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from adapters.ocpp.config import OcppSettings
from adapters.ocpp.frames import (
    ERROR_CODES,
    ErrorKind,
    FrameError,
    IncomingCall,
    IncomingError,
    IncomingResult,
    call_error_frame,
    call_frame,
    call_result_frame,
    camel_case_keys,
    parse_frame,
    schema_violation,
    snake_case_keys,
)
from adapters.ocpp.requests import RequestBuilder
from adapters.ocpp.results import CallResult, CallStatus, Request
from adapters.ocpp.sessions import SessionKeeper, capabilities_event
from adapters.ocpp.timestamps import utc_now
from ems.events import ChargerCapabilities

# Inline validation: a thread hop per message costs more than validating a small payload.
ocpp.messages.ASYNC_VALIDATION = False

LOG = logging.getLogger(__name__)

_SEEN_IDS_KEPT = 256
_SERVED_BEFORE_ACCEPTANCE = frozenset({"BootNotification", "Heartbeat"})


class CallRefused(Exception):
    """Raised by a handler to answer its CALL with a CALLERROR of the given kind."""

    def __init__(self, kind: ErrorKind, description: str) -> None:
        super().__init__(description)
        self.kind = kind
        self.description = description


class _Offline(Exception):
    pass


class OcppConnection(ChargePoint):  # type: ignore[misc]
    """Base of the per-version charge point classes (`v16`, `v201`)."""

    ocpp_version: ClassVar[str]
    """`1.6` or `2.0.1`, as the `ocpp` package names its schema folders."""
    subprotocol: ClassVar[str]
    """`ocpp1.6` or `ocpp2.0.1`."""
    known_actions: ClassVar[frozenset[str]]
    """Every action a charger may send in this version (unknown ones: NotImplemented)."""

    requests: ClassVar[RequestBuilder]
    """Builds this version's outbound requests."""

    def __init__(
        self,
        charger_id: str,
        websocket: ServerConnection,
        keeper: SessionKeeper,
        settings: OcppSettings,
    ) -> None:
        super().__init__(charger_id, websocket, response_timeout=settings.call_timeout_s)
        self.websocket = websocket
        self.keeper = keeper
        self.settings = settings
        self.accepted = keeper.is_accepted(charger_id)
        """False while the charger is Pending: only boot and heartbeat are served."""
        self.capabilities: ChargerCapabilities | None = None
        self._codes = ERROR_CODES[self.ocpp_version]
        self._pending: dict[str, asyncio.Future[IncomingResult | IncomingError]] = {}
        self._seen_ids: set[str] = set()
        self._seen_order: deque[str] = deque()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._after_answer: list[Callable[[], Coroutine[Any, Any, Any]]] = []
        self._closed = False

    # receiving

    async def start(self) -> None:
        """Serve the charger until its socket closes."""
        try:
            async for raw in self.websocket:
                try:
                    await self.route_message(raw)
                except ConnectionClosed:
                    raise
                except Exception:
                    LOG.exception("%s: handling a message failed: %.200r", self.id, raw)
        except ConnectionClosed:
            pass
        finally:
            self.shut()

    def shut(self) -> None:
        """Fail the calls in flight as `Offline` and stop this connection's tasks."""
        self._closed = True
        for future in self._pending.values():
            if not future.done():
                future.set_exception(_Offline())
        for task in self._tasks:
            task.cancel()

    async def route_message(self, raw: str | bytes) -> None:
        try:
            frame = parse_frame(raw)
        except FrameError as error:
            LOG.warning("%s: bad frame (%s): %.200r", self.id, error.description, raw)
            self.on_bad_input(error.kind, error.description)
            await self._send_error(error.message_id, error.kind, error.description)
            return
        if isinstance(frame, IncomingCall):
            await self._answer(frame)
            return
        future = self._pending.get(frame.message_id)
        if future is None or future.done():
            LOG.warning("%s: answer to no call in flight: %s", self.id, frame.message_id)
            return
        future.set_result(frame)

    async def _answer(self, call: IncomingCall) -> None:
        if call.message_id in self._seen_ids:
            LOG.warning(
                "%s: message id %s repeated (%s); answered already",
                self.id,
                call.message_id,
                call.action,
            )
            self.on_bad_input(ErrorKind.PROTOCOL, f"repeated message id {call.message_id}")
            return
        self._remember(call.message_id)
        self._after_answer.clear()
        try:
            payload = await self._handle(call)
        except CallRefused as refusal:
            await self._send_error(call.message_id, refusal.kind, refusal.description)
            return
        except Exception:
            LOG.exception("%s: handling %s failed", self.id, call.action)
            self.on_bad_input(ErrorKind.INTERNAL, f"handling {call.action} failed")
            await self._send_error(
                call.message_id, ErrorKind.INTERNAL, f"Handling {call.action} failed"
            )
            return
        await self.websocket.send(call_result_frame(call.message_id, payload))
        while self._after_answer:
            self.spawn(self._after_answer.pop(0)(), f"after {call.action}")

    async def _handle(self, call: IncomingCall) -> dict[str, Any]:
        handlers = self.route_map.get(call.action)
        if handlers is None or "_on_action" not in handlers:
            if call.action in self.known_actions:
                raise CallRefused(
                    ErrorKind.NOT_SUPPORTED, f"{call.action} is not supported by this server"
                )
            raise CallRefused(ErrorKind.NOT_IMPLEMENTED, f"Unknown action {call.action!r}")
        if not self.accepted and call.action not in _SERVED_BEFORE_ACCEPTANCE:
            raise CallRefused(
                ErrorKind.SECURITY, "The charger is not accepted (its boot was answered Pending)"
            )
        violation = schema_violation(self.ocpp_version, call.action, call.payload)
        if violation is not None:
            LOG.warning("%s: %s violates the schema: %s", self.id, call.action, violation)
            self.on_bad_input(violation.kind, f"{call.action}: {violation.description}")
            raise CallRefused(violation.kind, violation.description)
        response = handlers["_on_action"](**snake_case_keys(call.payload))
        if isinstance(response, Awaitable):
            response = await response
        # Our answers are not validated here: it costs as much as validating the request,
        # and the tests' `ocpp` charge points validate every answer they get.
        return response if isinstance(response, dict) else camel_case_keys(asdict(response))

    def _remember(self, message_id: str) -> None:
        self._seen_ids.add(message_id)
        self._seen_order.append(message_id)
        if len(self._seen_order) > _SEEN_IDS_KEPT:
            self._seen_ids.discard(self._seen_order.popleft())

    async def _send_error(self, message_id: str, kind: ErrorKind, description: str) -> None:
        await self.websocket.send(call_error_frame(message_id, self._codes[kind], description))

    def after_answer(self, start: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run `start()` as a task once the CALL being handled has been answered."""
        self._after_answer.append(start)

    def spawn(self, coroutine: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._task_done(t, what))
        return task

    def _task_done(self, task: asyncio.Task[Any], what: str) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            LOG.error("%s: %s failed", self.id, what, exc_info=task.exception())

    def on_bad_input(self, kind: ErrorKind, description: str) -> None:
        self.keeper.log(utc_now(), self.id, "bad_input", error=str(kind), description=description)

    # sending

    async def request(self, request: Request | Any, timeout_s: float | None = None) -> CallResult:
        """Send one CALL and wait for its answer; queued behind any call in flight.

        `request` is a `Request` or a dataclass from `ocpp.v16.call` / `ocpp.v201.call`.
        """
        if not isinstance(request, Request):
            if not is_dataclass(request) or isinstance(request, type):
                raise TypeError(f"not an OCPP request: {request!r}")
            request = Request(type(request).__name__, camel_case_keys(asdict(request)))
        if request.action not in self.requests.ACTIONS:
            return CallResult(
                False,
                CallStatus.INVALID_REQUEST,
                error_description=f"{request.action} is not an OCPP {self.ocpp_version} request",
            )
        violation = schema_violation(self.ocpp_version, request.action, request.payload)
        if violation is not None:
            LOG.error("%s: refusing to send %s: %s", self.id, request.action, violation)
            return CallResult(
                False,
                CallStatus.INVALID_REQUEST,
                error_code=self._codes[violation.kind],
                error_description=violation.description,
            )
        timeout = self._response_timeout if timeout_s is None else timeout_s
        async with self._call_lock:
            if self._closed:
                return CallResult(False, CallStatus.OFFLINE, error_description="not connected")
            message_id = str(uuid4())
            future: asyncio.Future[IncomingResult | IncomingError] = (
                asyncio.get_running_loop().create_future()
            )
            self._pending[message_id] = future
            try:
                await self.websocket.send(call_frame(message_id, request.action, request.payload))
                answer = await asyncio.wait_for(future, timeout)
            except TimeoutError:
                LOG.warning("%s: no answer to %s within %ss", self.id, request.action, timeout)
                return CallResult(
                    False, CallStatus.TIMEOUT, error_description=f"no answer within {timeout}s"
                )
            except (ConnectionClosed, _Offline):
                return CallResult(False, CallStatus.OFFLINE, error_description="disconnected")
            finally:
                self._pending.pop(message_id, None)
        if isinstance(answer, IncomingError):
            LOG.warning(
                "%s: %s answered with CALLERROR %s: %s",
                self.id,
                request.action,
                answer.error_code,
                answer.description,
            )
            return CallResult(
                False,
                CallStatus.CALL_ERROR_PREFIX + answer.error_code,
                payload=answer.details if isinstance(answer.details, dict) else {},
                error_code=answer.error_code,
                error_description=answer.description,
            )
        violation = schema_violation(
            self.ocpp_version, request.action, answer.payload, response=True
        )
        if violation is not None:
            LOG.warning("%s: %s answer violates the schema: %s", self.id, request.action, violation)
        status = answer.payload.get("status")
        return CallResult(
            True, status if isinstance(status, str) else CallStatus.ANSWERED, answer.payload
        )

    async def probe_capabilities(self) -> None:
        """Ask the charger what it supports for smart charging; store and announce it."""
        result = await self.request(self.requests.probe_capabilities())
        if not result.ok:
            LOG.warning("%s: capability probe failed: %s", self.id, result.status)
            return
        capabilities = self.requests.read_capabilities(result.payload)
        at = utc_now()
        self.keeper.capabilities(self.id, at, capabilities)
        self.capabilities = capabilities_event(self.id, at, capabilities)

    async def call(self, payload: Any, *_: Any, **__: Any) -> CallResult:
        """`ocpp.ChargePoint.call` routed through `request`: a `CallResult`, never None."""
        return await self.request(payload)
