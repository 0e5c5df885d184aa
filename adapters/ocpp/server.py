"""The central system: the WebSocket server, its chargers, and the calls sent to them."""

from __future__ import annotations

import asyncio
import http
import logging
import ssl
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any, overload
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader
from websockets.headers import build_www_authenticate_basic, parse_authorization_basic
from websockets.http11 import Request as HttpRequest
from websockets.http11 import Response as HttpResponse
from websockets.typing import Subprotocol

from adapters.ocpp.auth import LoginThrottle, PasswordChecker, hash_password, is_password_hash
from adapters.ocpp.config import OcppSettings
from adapters.ocpp.connection import INBOUND_QUEUE_FRAMES, OcppConnection
from adapters.ocpp.profiles import (
    ChargerCaps,
    profile_id_for,
    render_clear_charging_profile,
    render_set_charging_profile,
)
from adapters.ocpp.results import CallResult, CallStatus, Request
from adapters.ocpp.sessions import EventSink, SessionKeeper, capabilities_event
from adapters.ocpp.timestamps import utc_now
from adapters.ocpp.v16.handlers import ChargePoint16
from adapters.ocpp.v201.handlers import ChargePoint201
from adapters.storage.limits import command_to_json
from adapters.storage.records import Registration
from adapters.storage.repository import Store
from ems.commands import ClearLimit, SetLimit
from ems.events import ChargerCapabilities, ProfileAnswer

LOG = logging.getLogger(__name__)

_VERSIONS: dict[str, type[OcppConnection]] = {
    ChargePoint201.subprotocol: ChargePoint201,
    ChargePoint16.subprotocol: ChargePoint16,
}
NO_SUBPROTOCOL_CLOSE = 1002
REPLACED_CLOSE = 1000

OPERATOR_ACTIONS = (
    "remote_start",
    "remote_stop",
    "reset",
    "change_availability",
    "unlock_connector",
    "trigger_message",
)
"""Verbs the operator CLI may queue in the store for the running server."""

PhasesOf = Callable[[str, int], int]


class CentralSystem:
    """See `adapters.ocpp` for how the runtime uses it."""

    def __init__(
        self,
        settings: OcppSettings,
        store: Store,
        on_event: EventSink,
        number_phases: PhasesOf | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.keeper = SessionKeeper(store, on_event, settings.unknown_tokens == "accept")
        self._number_phases = number_phases
        self._connections: dict[str, OcppConnection] = {}
        self._server: Server | None = None
        self._passwords = PasswordChecker()
        self._throttle = LoginThrottle(settings.auth_max_failures, settings.auth_failure_window_s)
        self._operator_task: asyncio.Task[None] | None = None
        self._operator_running: set[int] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self.port = settings.port
        self._prefix_parts = [p for p in settings.path_prefix.split("/") if p]

    # lifecycle

    async def start(self) -> None:
        """Seed the store from the settings and start listening."""
        self._seed_store()
        self.keeper.commits.start()
        self._server = await serve(
            self._serve_charger,
            self.settings.host,
            self.settings.port,
            subprotocols=[Subprotocol(p) for p in _VERSIONS],
            select_subprotocol=_select_subprotocol,
            process_request=self._check_request,
            compression="deflate" if self.settings.compression else None,
            ping_interval=self.settings.ping_interval_s,
            ping_timeout=self.settings.ping_timeout_s,
            max_size=self.settings.max_frame_bytes,
            max_queue=INBOUND_QUEUE_FRAMES,
            ssl=self._tls_context(),
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._operator_task = asyncio.get_running_loop().create_task(self._operator_loop())
        LOG.info("OCPP central system listening on port %s", self.port)

    async def stop(self) -> None:
        if self._operator_task is not None:
            self._operator_task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self._passwords.close()
        for task in list(self._background):
            task.cancel()
        self.keeper.commits.stop()

    def _seed_store(self) -> None:
        for charger_id in self.settings.known_chargers:
            record = self.store.get_charger(charger_id)
            if record is None or record.registration != Registration.ACCEPTED:
                self.store.add_charger(charger_id, Registration.ACCEPTED)
        for charger_id, password in self.settings.passwords.items():
            if self.store.get_charger(charger_id) is None:
                self.store.add_charger(charger_id, Registration.ACCEPTED)
            encoded = password if is_password_hash(password) else hash_password(password)
            self.store.set_password_hash(charger_id, encoded)
        for token in self.settings.id_tokens:
            self.store.add_token_if_absent(token)

    def _tls_context(self) -> ssl.SSLContext | None:
        if self.settings.tls_cert is None or self.settings.tls_key is None:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.settings.tls_cert, self.settings.tls_key)
        return context

    # connecting chargers

    def _charger_id_of(self, path: str) -> str | None:
        parts = urlsplit(path).path.strip("/").split("/")
        if parts[:-1] != self._prefix_parts or not parts[-1]:
            return None
        return unquote(parts[-1])

    async def _check_request(
        self, connection: ServerConnection, request: HttpRequest
    ) -> HttpResponse | None:
        """Before the handshake: the source address is not throttled, the path names a
        charger we serve, and its password."""
        retry_after = self._throttle.retry_after(_peer_address(connection))
        if retry_after is not None:
            response = connection.respond(
                http.HTTPStatus.TOO_MANY_REQUESTS, "Too many failed logins\n"
            )
            response.headers["Retry-After"] = str(retry_after)
            return response
        charger_id = self._charger_id_of(request.path)
        if charger_id is None:
            return connection.respond(http.HTTPStatus.NOT_FOUND, "No charger id in the path\n")
        record = self.store.get_charger(charger_id)
        if record is None:
            policy = self.settings.unknown_chargers
            if policy == "reject":
                LOG.warning("%s: unknown charger refused", charger_id)
                self.keeper.log(utc_now(), charger_id, "refused", reason="unknown charger")
                return connection.respond(http.HTTPStatus.NOT_FOUND, "Unknown charger\n")
            registration = Registration.ACCEPTED if policy == "accept" else Registration.PENDING
            self.store.add_charger(charger_id, registration)
            LOG.info("%s: unknown charger registered as %s", charger_id, registration)
            return None
        if record.password_hash is None:
            return None
        if await self._authenticated(connection, charger_id, record.password_hash, request.headers):
            return None
        LOG.warning("%s: refused, wrong or missing password", charger_id)
        self.keeper.log(utc_now(), charger_id, "refused", reason="wrong or missing password")
        response = connection.respond(http.HTTPStatus.UNAUTHORIZED, "Invalid credentials\n")
        response.headers["WWW-Authenticate"] = build_www_authenticate_basic("OCPP")
        return response

    async def _authenticated(
        self, connection: ServerConnection, charger_id: str, encoded: str, headers: Headers
    ) -> bool:
        """Check the password, counting the outcome against the source address; an
        abandoned check (the handshake timed out or was closed) counts as a failure."""
        address = _peer_address(connection)
        self._throttle.started(address)
        ok = False
        try:
            ok = await self._password_ok(charger_id, encoded, headers)
        finally:
            if self._throttle.finished(address, ok):
                self._log_throttled(address, charger_id)
        return ok

    def _log_throttled(self, address: str, charger_id: str) -> None:
        """Once per block: the refusals during it are neither logged nor stored."""
        window = self._throttle.window_s
        reason = f"{self._throttle.max_failures} failed logins from {address}"
        LOG.warning("%s; refusing that address for %.0f s", reason, window)
        self.keeper.log(utc_now(), charger_id, "throttled", reason=reason, address=address)

    async def _password_ok(self, charger_id: str, encoded: str, headers: Headers) -> bool:
        header = headers.get("Authorization")
        if header is None:
            return False
        try:
            username, password = parse_authorization_basic(header)
            # bytes that are not UTF-8 come as surrogates, which no stored password holds
            password.encode()
        except (InvalidHeader, UnicodeEncodeError):
            return False
        return username == charger_id and await self._passwords.check(password, encoded)

    async def _serve_charger(self, websocket: ServerConnection) -> None:
        charger_id = self._charger_id_of(websocket.request.path if websocket.request else "")
        if charger_id is None:
            return
        cls = _VERSIONS.get(websocket.subprotocol or "")
        if cls is None:
            offered = (
                websocket.request.headers.get("Sec-WebSocket-Protocol")
                if websocket.request
                else None
            )
            reason = "No supported OCPP subprotocol: offer ocpp1.6 or ocpp2.0.1"
            LOG.warning("%s: refused, subprotocols offered: %s", charger_id, offered)
            self.keeper.log(utc_now(), charger_id, "refused", reason=reason, offered=offered)
            await websocket.close(NO_SUBPROTOCOL_CLOSE, reason)
            return
        connection = cls(charger_id, websocket, self.keeper, self.settings)
        previous = self._connections.get(charger_id)
        self._connections[charger_id] = connection
        if previous is not None:
            LOG.warning("%s: new connection replaces the previous one", charger_id)
            previous.shut()
            self._in_background(
                previous.websocket.close(REPLACED_CLOSE, "Replaced by a new connection")
            )
        now = utc_now()
        LOG.info(
            "%s: connected over %s from %s", charger_id, cls.subprotocol, _peer_address(websocket)
        )
        self.keeper.connected(charger_id, cls.subprotocol, now)
        stored = self.store.get_charger(charger_id)
        if stored is not None and stored.capabilities:
            connection.capabilities = capabilities_event(charger_id, now, stored.capabilities)
        try:
            await connection.start()
        finally:
            reason = _close_reason(websocket)
            if websocket.close_code not in (1000, 1001):
                LOG.warning("%s: connection closed: %s", charger_id, reason)
            if self._connections.get(charger_id) is connection:
                del self._connections[charger_id]
                self.keeper.disconnected(charger_id, utc_now(), reason)
            else:
                LOG.info("%s: replaced connection closed", charger_id)

    def _in_background(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # what is connected

    def connected_chargers(self) -> list[str]:
        return sorted(self._connections)

    def is_connected(self, charger_id: str) -> bool:
        return charger_id in self._connections

    def protocol_of(self, charger_id: str) -> str | None:
        connection = self._connections.get(charger_id)
        return connection.subprotocol if connection else None

    def capabilities_of(self, charger_id: str) -> ChargerCapabilities | None:
        connection = self._connections.get(charger_id)
        return connection.capabilities if connection else None

    # calls

    async def call(
        self, charger_id: str, request: Request | Any, timeout_s: float | None = None
    ) -> CallResult:
        """Send any request (`Request` or an `ocpp.v16.call`/`ocpp.v201.call` dataclass)."""
        connection = self._connections.get(charger_id)
        if connection is None:
            return CallResult(False, CallStatus.OFFLINE, error_description="not connected")
        return await connection.request(request, timeout_s)

    async def _build_and_call(
        self, charger_id: str, build: Callable[[OcppConnection], Request]
    ) -> CallResult:
        connection = self._connections.get(charger_id)
        if connection is None:
            return CallResult(False, CallStatus.OFFLINE, error_description="not connected")
        try:
            request = build(connection)
        except (ValueError, TypeError) as error:
            return CallResult(False, CallStatus.INVALID_REQUEST, error_description=str(error))
        return await connection.request(request)

    async def remote_start(
        self, charger_id: str, id_token: str, connector_id: int | None = None
    ) -> CallResult:
        remote_start_id = self.store.next_id("remote_start")
        return await self._build_and_call(
            charger_id, lambda c: c.requests.remote_start(id_token, connector_id, remote_start_id)
        )

    async def remote_stop(self, charger_id: str, transaction_id: str) -> CallResult:
        return await self._build_and_call(
            charger_id, lambda c: c.requests.remote_stop(transaction_id)
        )

    async def reset(self, charger_id: str, hard: bool = False) -> CallResult:
        return await self._build_and_call(charger_id, lambda c: c.requests.reset(hard))

    async def change_availability(
        self, charger_id: str, connector_id: int, operative: bool
    ) -> CallResult:
        return await self._build_and_call(
            charger_id, lambda c: c.requests.change_availability(connector_id, operative)
        )

    async def trigger_message(
        self, charger_id: str, message: str, connector_id: int | None = None
    ) -> CallResult:
        return await self._build_and_call(
            charger_id, lambda c: c.requests.trigger_message(message, connector_id)
        )

    async def unlock_connector(self, charger_id: str, connector_id: int) -> CallResult:
        return await self._build_and_call(
            charger_id, lambda c: c.requests.unlock_connector(connector_id)
        )

    async def get_composite_schedule(
        self, charger_id: str, connector_id: int, duration_s: int, rate_unit: str | None = None
    ) -> CallResult:
        return await self._build_and_call(
            charger_id,
            lambda c: c.requests.get_composite_schedule(connector_id, duration_s, rate_unit),
        )

    async def probe_capabilities(self, charger_id: str) -> ChargerCapabilities | None:
        """Probe again (also done after every accepted boot); the result or None."""
        connection = self._connections.get(charger_id)
        if connection is None:
            return None
        await connection.probe_capabilities()
        return connection.capabilities

    # charging limits

    @overload
    async def send(self, command: SetLimit) -> ProfileAnswer: ...
    @overload
    async def send(self, command: ClearLimit) -> CallResult: ...

    async def send(self, command: SetLimit | ClearLimit) -> ProfileAnswer | CallResult:
        """Render and send a controller command; the profile and its answer are stored.

        A `SetLimit` comes back as the `ProfileAnswer` the controller core takes; a
        `ClearLimit` as the plain `CallResult` (ProfileAnswer carries a SetLimit).
        """
        if isinstance(command, SetLimit):
            return await self._send_limit(command)
        return await self._clear_limit(command)

    async def _send_limit(self, command: SetLimit) -> ProfileAnswer:
        connection = self._connections.get(command.charger_id)
        if connection is None:
            return ProfileAnswer(command, utc_now(), False, CallStatus.OFFLINE, "not connected")
        phases = (
            self._number_phases(command.charger_id, command.connector_id)
            if self._number_phases
            else 3
        )
        caps = (
            ChargerCaps.from_capabilities(connection.capabilities, phases)
            if connection.capabilities
            else ChargerCaps(number_phases=phases)
        )
        profile_id = profile_id_for(command.purpose, command.connector_id)
        try:
            payload = render_set_charging_profile(command, connection.subprotocol, caps, profile_id)
        except ValueError as error:
            LOG.error("%s: cannot render %s: %s", command.charger_id, command.purpose, error)
            return ProfileAnswer(command, utc_now(), False, CallStatus.INVALID_REQUEST, str(error))
        result = await self._recorded_call(
            connection,
            Request("SetChargingProfile", payload),
            command.connector_id,
            command.purpose,
            command.reason,
            command_to_json(command),
        )
        return ProfileAnswer(command, utc_now(), result.accepted, result.status, _detail(result))

    async def _clear_limit(self, command: ClearLimit) -> CallResult:
        connection = self._connections.get(command.charger_id)
        if connection is None:
            return CallResult(False, CallStatus.OFFLINE, error_description="not connected")
        payload = render_clear_charging_profile(command, connection.subprotocol)
        return await self._recorded_call(
            connection,
            Request("ClearChargingProfile", payload),
            command.connector_id,
            command.purpose,
            command.reason,
        )

    async def _recorded_call(
        self,
        connection: OcppConnection,
        request: Request,
        connector_id: int,
        purpose: str,
        reason: str,
        command: dict[str, Any] | None = None,
    ) -> CallResult:
        row = self.store.record_profile_sent(
            connection.id,
            connector_id,
            request.action,
            str(purpose),
            reason,
            request.payload,
            utc_now(),
            command,
        )
        self.keeper.durable()  # a restarted controller knows what the charger may hold
        result = await connection.request(request)
        self.store.record_profile_answer(row, result.status, _detail(result), utc_now())
        self.keeper.durable()
        return result

    # operator commands queued in the store by the CLI

    async def _operator_loop(self) -> None:
        while True:
            try:
                for command in self.store.pending_operator_commands():
                    if command.id not in self._operator_running:
                        self._operator_running.add(command.id)
                        self._in_background(
                            self._run_operator_command(
                                command.id, command.charger_id, command.action, command.arguments
                            )
                        )
            except Exception:
                LOG.exception("reading operator commands failed")
            await asyncio.sleep(self.settings.operator_poll_s)

    async def _run_operator_command(
        self, command_id: int, charger_id: str, action: str, arguments: dict[str, Any]
    ) -> None:
        try:
            if action not in OPERATOR_ACTIONS:
                result = CallResult(
                    False, CallStatus.INVALID_REQUEST, error_description=f"unknown {action!r}"
                )
            else:
                result = await getattr(self, action)(charger_id, **arguments)
        except TypeError as error:
            result = CallResult(False, CallStatus.INVALID_REQUEST, error_description=str(error))
        self.store.finish_operator_command(command_id, asdict(result), utc_now())
        self._operator_running.discard(command_id)


def _select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    """The newest version both sides speak, else None: the connection opens and is then
    closed with a reason the charger can log (an HTTP 400 is often all a charger shows)."""
    for protocol in _VERSIONS:
        if protocol in offered:
            return Subprotocol(protocol)
    return None


def _peer_address(connection: ServerConnection) -> str:
    """The source IP of a request; not its port, which changes with every connection."""
    peer = connection.remote_address
    return str(peer[0]) if isinstance(peer, tuple) and peer else str(peer)


def _detail(result: CallResult) -> str | None:
    if not result.ok:
        return result.error_description
    info = result.payload.get("statusInfo")
    if isinstance(info, dict):
        return ": ".join(str(v) for v in (info.get("reasonCode"), info.get("additionalInfo")) if v)
    return None


def _close_reason(websocket: ServerConnection) -> str:
    code = websocket.close_code
    return f"{code} {websocket.close_reason or ''}".strip() if code is not None else "lost"
