"""One charger's OCPP-J connection: the single place where frames are routed.

`ocpp.ChargePoint` is kept for its `@on` routing; its message handling is replaced here
because as shipped it only logs a frame that is not OCPP, answers an unknown action with
`NotSupported`, answers a repeated message id twice, uses the 2.0.1 error-code spellings
for 1.6, turns a CALLERROR into `None` and drops `@after` exceptions. Here:

- every CALL gets exactly one answer: its CALLRESULT or a CALLERROR named as the
  charger's protocol version names it; a repeated message id is not handled again but
  gets the answer the first one got (a charger that lost our answer sends it again);
- one charger cannot slow the others down: each connection handles one message per turn
  of the event loop, so the store writes behind the handlers are shared round-robin
  between chargers. A charger sending faster than its turns waits in its own bounded
  receive queue (`INBOUND_QUEUE_FRAMES`); beyond it, its socket is no longer read and
  TCP pushes back on that charger alone;
- outbound calls are queued, one in flight per charger, and always return a `CallResult`.
  None goes out before the charger's boot is accepted (both versions forbid requests
  before that, and strict firmware refuses them), bar the few its Pending state allows;
- work that must follow an answer (probing after a boot) runs as a task started after
  the answer went out, so a handler never waits on the charger it is answering, and a
  failing task is logged;
- bad input is logged one line at a time, and only so often (`_Budget`): a charger
  repeating a broken frame cannot flood the log or the store.
"""

from __future__ import annotations

import asyncio
import logging
import time
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
    shorten,
    snake_case_keys,
)
from adapters.ocpp.requests import ALLOWED_WHILE_PENDING, RequestBuilder
from adapters.ocpp.results import CallResult, CallStatus, Request
from adapters.ocpp.sessions import SessionKeeper, capabilities_event
from adapters.ocpp.timestamps import utc_now
from adapters.storage.records import Registration
from ems.events import ChargerCapabilities

# Inline validation: a thread hop per message costs more than validating a small payload.
ocpp.messages.ASYNC_VALIDATION = False

LOG = logging.getLogger(__name__)

INBOUND_QUEUE_FRAMES = 16
"""Frames a charger may have waiting for its turn before its socket is no longer read."""
_ANSWERS_KEPT = 256
_BAD_INPUT_BURST = 10
_BAD_INPUT_PERIOD_S = 60.0
"""A charger's bad inputs are logged (and stored) up to `_BAD_INPUT_BURST` at once, then
one per `_BAD_INPUT_PERIOD_S`; every one of them is still answered."""
_SERVED_BEFORE_ACCEPTANCE = frozenset({"BootNotification", "Heartbeat"})
_BOOT = "BootNotification"


class CallRefused(Exception):
    """Raised by a handler to answer its CALL with a CALLERROR of the given kind."""

    def __init__(self, kind: ErrorKind, description: str) -> None:
        super().__init__(description)
        self.kind = kind
        self.description = description


class _Offline(Exception):
    pass


class _Budget:
    """Reports allowed: `burst` at once, refilled at one per `period_s`; counts the ones
    it refused since it last allowed one."""

    def __init__(
        self, burst: int, period_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._burst = burst
        self._period_s = period_s
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()
        self._refused = 0

    def take(self) -> int | None:
        """None if this report must be left out, else how many were left out before it."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) / self._period_s)
        self._at = now
        if self._tokens < 1:
            self._refused += 1
            return None
        self._tokens -= 1
        refused, self._refused = self._refused, 0
        return refused


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
        self.announced = False
        """Whether the controller has heard this connection's charger is connected: once
        it can be steered, and once per connection."""
        self.capabilities: ChargerCapabilities | None = None
        self._codes = ERROR_CODES[self.ocpp_version]
        self._pending: dict[str, asyncio.Future[IncomingResult | IncomingError]] = {}
        self._answers: dict[str, tuple[str, str]] = {}
        """Message id → (action, answer frame) of the CALLs answered lately, oldest first."""
        self._tasks: set[asyncio.Task[Any]] = set()
        self._after_answer: list[Callable[[], Coroutine[Any, Any, Any]]] = []
        self._closed = False
        self._registration: str | None = None
        """How the charger's boot was answered; None until then, and nothing is sent."""
        self._boot_answer: str | None = None
        self._gate_moved = asyncio.Event()
        self._bad_input_budget = _Budget(_BAD_INPUT_BURST, _BAD_INPUT_PERIOD_S)

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
                # The turn ends here, also when the next frame is already buffered:
                # every other charger handles one message before this one handles another.
                await asyncio.sleep(0)
        except ConnectionClosed:
            pass
        finally:
            self.shut()

    def shut(self) -> None:
        """Fail the calls in flight or waiting for the boot as `Offline` and stop this
        connection's tasks."""
        self._closed = True
        for future in self._pending.values():
            if not future.done():
                future.set_exception(_Offline())
        for task in self._tasks:
            task.cancel()
        self._move_gate()

    async def route_message(self, raw: str | bytes) -> None:
        try:
            frame = parse_frame(raw)
        except FrameError as error:
            self._bad_input(error.kind, f"bad frame ({error.description}): {raw!r:.100}")
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
        first = self._answers.get(call.message_id)
        if first is not None:
            await self._answer_again(call, *first)
            return
        self._after_answer.clear()
        self._boot_answer = None
        frame, handled = await self._outcome(call)
        self._remember(call.message_id, call.action, frame)
        await self.websocket.send(frame)
        self._move_registration(call.action)
        if not handled:
            return
        while self._after_answer:
            self.spawn(self._after_answer.pop(0)(), f"after {call.action}")

    async def _answer_again(self, call: IncomingCall, action: str, frame: str) -> None:
        """A repeated message id: the same CALL sent again gets the same answer; another
        CALL under a used id is refused, not answered with the first one's result."""
        if action == call.action:
            self._bad_input(
                ErrorKind.PROTOCOL, f"message id {call.message_id} repeated ({action}): answered"
            )
            await self.websocket.send(frame)
            return
        description = f"MessageId {call.message_id} was used already (for {action})"
        self._bad_input(ErrorKind.RPC_FRAMEWORK, f"{call.action}: {description}")
        await self._send_error(call.message_id, ErrorKind.RPC_FRAMEWORK, description)

    async def _outcome(self, call: IncomingCall) -> tuple[str, bool]:
        """The answer frame to `call`, and whether it is a CALLRESULT: only once what
        handling it wrote is committed (a failed commit is an InternalError)."""
        try:
            payload = await self._handle(call)
            self.keeper.durable()
        except CallRefused as refusal:
            return self._error_frame(call.message_id, refusal.kind, refusal.description), False
        except Exception:
            description = f"Handling {call.action} failed"
            self._bad_input(ErrorKind.INTERNAL, description, failure=True)
            return self._error_frame(call.message_id, ErrorKind.INTERNAL, description), False
        return call_result_frame(call.message_id, payload), True

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
            self._bad_input(
                violation.kind, f"{call.action} violates the schema: {violation.description}"
            )
            raise CallRefused(violation.kind, violation.description)
        response = handlers["_on_action"](**snake_case_keys(call.payload))
        if isinstance(response, Awaitable):
            response = await response
        # Our answers are not validated here: it costs as much as validating the request,
        # and the tests' `ocpp` charge points validate every answer they get.
        return response if isinstance(response, dict) else camel_case_keys(asdict(response))

    def _remember(self, message_id: str, action: str, frame: str) -> None:
        self._answers[message_id] = (action, frame)
        if len(self._answers) > _ANSWERS_KEPT:
            del self._answers[next(iter(self._answers))]

    def _error_frame(self, message_id: str, kind: ErrorKind, description: str) -> str:
        return call_error_frame(message_id, self._codes[kind], shorten(description))

    async def _send_error(self, message_id: str, kind: ErrorKind, description: str) -> None:
        await self.websocket.send(self._error_frame(message_id, kind, description))

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

    def _bad_input(self, kind: ErrorKind, description: str, failure: bool = False) -> None:
        """One log line and one stored event naming the charger, unless this charger has
        used up its budget of them. A `failure` (our bug, not the charger's) is logged as
        an error with its traceback."""
        left_out = self._bad_input_budget.take()
        if left_out is None:
            return
        description = shorten(description)
        more = f" ({left_out} more bad inputs left out of the log)" if left_out else ""
        level = logging.ERROR if failure else logging.WARNING
        LOG.log(level, "%s: %s%s", self.id, description, more, exc_info=failure)
        self.keeper.log(
            utc_now(),
            self.id,
            "bad_input",
            error=str(kind),
            description=description,
            left_out=left_out,
        )

    # the boot

    def registered(self, registration: str) -> None:
        """The boot being handled is answered `registration`; requests waiting for it go
        out once that answer has been sent."""
        self.accepted = registration == Registration.ACCEPTED
        self._boot_answer = registration

    def _move_registration(self, action: str) -> None:
        """After an answer: take the boot's answer, or see that the charger booted over an
        earlier connection. Neither version lets a charger send anything but its boot
        until the boot is answered, so a first CALL that is not a boot comes from a
        charger that reconnected without restarting, and its stored registration holds."""
        if self._boot_answer is not None:
            self._registration = self._boot_answer
        elif self._registration is None and action != _BOOT:
            self._registration = Registration.PENDING
            if self.accepted:
                self._registration = Registration.ACCEPTED
                self._announce_resumed()
        else:
            return
        self._move_gate()

    def _announce_resumed(self) -> None:
        if not self.announced:
            self.keeper.resumed(self.id, self.subprotocol, utc_now())
            self.announced = True

    def _may_send(self, action: str) -> bool:
        if self._registration == Registration.ACCEPTED:
            return True
        allowed = ALLOWED_WHILE_PENDING[self.ocpp_version]
        return self._registration == Registration.PENDING and action in allowed

    def _move_gate(self) -> None:
        """Wake the requests waiting in `_until_allowed` to look again."""
        self._gate_moved.set()
        self._gate_moved = asyncio.Event()

    async def _until_allowed(self, action: str) -> bool:
        """Wait until `action` may be sent; False if the connection closed first."""
        if not self._closed and not self._may_send(action):
            LOG.debug("%s: %s waits for the charger's boot to be accepted", self.id, action)
        while not self._closed and not self._may_send(action):
            await self._gate_moved.wait()
        return not self._closed

    # sending

    async def request(self, request: Request | Any, timeout_s: float | None = None) -> CallResult:
        """Send one CALL and wait for its answer; queued behind any call in flight, and
        until the charger's boot is accepted. The timeout counts from the sending.

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
        if not await self._until_allowed(request.action):
            return CallResult(False, CallStatus.OFFLINE, error_description="not connected")
        return await self._call(request, self._response_timeout if timeout_s is None else timeout_s)

    async def _call(self, request: Request, timeout_s: float) -> CallResult:
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
                answer = await asyncio.wait_for(future, timeout_s)
            except TimeoutError:
                LOG.warning("%s: no answer to %s within %ss", self.id, request.action, timeout_s)
                return CallResult(
                    False, CallStatus.TIMEOUT, error_description=f"no answer within {timeout_s}s"
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
