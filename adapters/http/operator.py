"""The endpoints that change something: a site limit override, a remote stop, the
charging mode of a running session, and trusting a charger again.

A remote stop names the charger with the transaction
(`POST /api/chargers/{charger}/sessions/{id}/stop`): OCPP 2.0.1 transaction ids are the
station's own, so two stations may run the same one. `POST /api/sessions/{id}/stop` finds
the charger itself, and refuses an id that runs on more than one.

`POST /api/chargers/{charger}/connectors/{connector}/mode` with `{"mode": "solar"}` charges
the session running there in that mode until it ends (`{"mode": null}`: its charger's
configured mode again). A mode only bounds a session below every limit, so no choice
relaxes one.

`POST /api/chargers/{charger}/connectors/{connector}/trust` forgets that the connector's
charger was caught drawing more than allowed (repaired, its firmware updated): its
sessions are no longer on probation. A charger drawing too much now cannot be forgiven
(409): it stays counted at its maximum until it stops.

All need `Authorization: Bearer <token>`. Without a configured token they are disabled
(403), so a fresh install exposes nothing that acts on chargers. Every accepted action
is logged, as an audit trail of who changed what on the site.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
from typing import Any

from aiohttp import web

from adapters.http.snapshot import ConnectorSnapshot
from adapters.http.source import OperatorActions, StatusSource
from ems.site import ChargingMode

log = logging.getLogger(__name__)

DISABLED_MESSAGE = (
    "operator endpoints are disabled: set `token` in the [http] section of the config"
    " and send it as `Authorization: Bearer <token>`"
)


class InvalidInput(Exception):
    """A request the operator must fix; `field` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def error_response(status: int, message: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": message}
    if field is not None:
        body["field"] = field
    return web.json_response(body, status=status)


def parse_limit_override(body: str, configured_limit_a: float) -> float | None:
    """`{"limit_a": 25}` sets an override, `{"limit_a": null}` or `null` clears it.

    An override may only lower the configured limit: raising it above the main fuse is
    never safe, whoever asks.
    """
    try:
        data = json.loads(body)
    except json.JSONDecodeError as error:
        raise InvalidInput("body", f'not valid JSON ({error}); send {{"limit_a": 25}}') from None
    if data is None:
        return None
    if not isinstance(data, dict):
        raise InvalidInput("body", 'must be a JSON object like {"limit_a": 25}')
    unknown = sorted(set(data) - {"limit_a"})
    if unknown:
        raise InvalidInput(unknown[0], "unknown field (expected only limit_a)")
    if "limit_a" not in data:
        raise InvalidInput("limit_a", "required (a number of amperes per phase, or null)")
    limit_a = data["limit_a"]
    if limit_a is None:
        return None
    if isinstance(limit_a, bool) or not isinstance(limit_a, int | float):
        raise InvalidInput("limit_a", f"must be a number of amperes or null (got {limit_a!r})")
    if not math.isfinite(limit_a) or limit_a <= 0:
        raise InvalidInput("limit_a", f"must be > 0 A (got {limit_a!r})")
    if limit_a > configured_limit_a:
        raise InvalidInput(
            "limit_a",
            f"must not exceed the configured site limit of {configured_limit_a:g} A"
            f" (got {limit_a:g})",
        )
    return float(limit_a)


MODES = tuple(mode.value for mode in ChargingMode)


def parse_mode_choice(body: str) -> str | None:
    """`{"mode": "solar"}` chooses a mode, `{"mode": null}` clears the choice."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError as error:
        raise InvalidInput("body", f'not valid JSON ({error}); send {{"mode": "solar"}}') from None
    if not isinstance(data, dict):
        raise InvalidInput("body", 'must be a JSON object like {"mode": "solar"}')
    unknown = sorted(set(data) - {"mode"})
    if unknown:
        raise InvalidInput(unknown[0], "unknown field (expected only mode)")
    if "mode" not in data:
        raise InvalidInput("mode", f"required (one of {', '.join(MODES)}, or null)")
    mode = data["mode"]
    if mode is not None and mode not in MODES:
        raise InvalidInput("mode", f"must be one of {', '.join(MODES)} or null (got {mode!r})")
    return None if mode is None else str(mode)


class OperatorApi:
    """Token-guarded handlers that call the runtime's `OperatorActions`."""

    def __init__(self, source: StatusSource, actions: OperatorActions, token: str | None):
        self._source = source
        self._actions = actions
        self._token = token

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/site/limit-override", self.limit_override),
            web.post("/api/chargers/{charger}/sessions/{id}/stop", self.stop_charger_session),
            web.post("/api/sessions/{id}/stop", self.stop_session),
            web.post("/api/chargers/{charger}/connectors/{connector}/mode", self.choose_mode),
            web.post("/api/chargers/{charger}/connectors/{connector}/trust", self.trust_again),
        ]

    def _refusal(self, request: web.Request) -> web.Response | None:
        """Why this request may not act, or None if it may."""
        if self._token is None:
            return error_response(403, DISABLED_MESSAGE)
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            response = error_response(401, "missing `Authorization: Bearer <token>` header")
            response.headers["WWW-Authenticate"] = 'Bearer realm="ems"'
            return response
        try:
            # aiohttp hands header bytes that are not UTF-8 on as surrogates
            presented_bytes = presented.strip().encode()
        except UnicodeEncodeError:
            return error_response(400, "the Authorization header is not valid UTF-8")
        if not hmac.compare_digest(presented_bytes, self._token.encode()):
            return error_response(403, "wrong token")
        return None

    async def limit_override(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        configured_limit_a = self._source.snapshot().site.configured_limit_a
        try:
            limit_a = parse_limit_override(await request.text(), configured_limit_a)
            self._actions.override_limit(limit_a)
        except InvalidInput as error:
            return error_response(400, str(error), error.field)
        except ValueError as error:
            return error_response(400, f"limit_a: {error}", "limit_a")
        if limit_a is None:
            log.warning("operator cleared the site limit override (from %s)", request.remote)
        else:
            log.warning(
                "operator set a site limit override of %g A (from %s)", limit_a, request.remote
            )
        return web.json_response({"override_limit_a": limit_a})

    def _connector(self, request: web.Request) -> ConnectorSnapshot | web.Response:
        """The connector the path names, or why this request may not act on it: the token's
        refusal, or the 404 that says it does not exist."""
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        charger_id, connector = request.match_info["charger"], request.match_info["connector"]
        found = next(
            (
                c
                for c in self._source.snapshot().connectors
                if c.charger_id == charger_id and str(c.connector_id) == connector
            ),
            None,
        )
        if found is None:
            return error_response(
                404, f"no connector {connector!r} on charger {charger_id!r}", "connector"
            )
        return found

    async def choose_mode(self, request: web.Request) -> web.Response:
        found = self._connector(request)
        if isinstance(found, web.Response):
            return found
        if found.session_id is None:
            return error_response(
                409, f"no session runs on {found.key}: a mode is chosen per session", "connector"
            )
        try:
            mode = parse_mode_choice(await request.text())
            self._actions.choose_mode(found.charger_id, found.connector_id, mode)
        except InvalidInput as error:
            return error_response(400, str(error), error.field)
        except ValueError as error:
            return error_response(400, f"mode: {error}", "mode")
        log.warning(
            "operator chose %s for session %s on %s (from %s)",
            "the charger's mode" if mode is None else f"mode {mode}",
            found.session_id,
            found.key,
            request.remote,
        )
        return web.json_response(
            {"connector": found.key, "session_id": found.session_id, "charging_mode": mode}
        )

    async def trust_again(self, request: web.Request) -> web.Response:
        found = self._connector(request)
        if isinstance(found, web.Response):
            return found
        if found.key in self._source.snapshot().controller.drawing_too_much:
            return error_response(
                409,
                f"{found.key} draws more than allowed now: it stays counted at its maximum "
                "until it stops",
                "connector",
            )
        if not found.caught_drawing_too_much:
            return error_response(
                409, f"{found.key} was never caught drawing more than allowed", "connector"
            )
        self._actions.trust_again(found.charger_id, found.connector_id)
        log.warning(
            "operator trusts %s again: its sessions are no longer on probation (from %s)",
            found.key,
            request.remote,
        )
        return web.json_response({"connector": found.key, "caught_drawing_too_much": False})

    async def stop_charger_session(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        charger_id, transaction_id = request.match_info["charger"], request.match_info["id"]
        if (charger_id, transaction_id) not in self._running_sessions():
            return error_response(
                404, f"no running session {transaction_id!r} on charger {charger_id!r}", "id"
            )
        return await self._stop(charger_id, transaction_id)

    async def stop_session(self, request: web.Request) -> web.Response:
        """The session named by its id alone: fine while only one charger runs that id."""
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        transaction_id = request.match_info["id"]
        chargers = sorted(c for c, t in self._running_sessions() if t == transaction_id)
        if not chargers:
            return error_response(404, f"no running session {transaction_id!r}", "id")
        if len(chargers) > 1:
            return error_response(
                409,
                f"session {transaction_id!r} runs on chargers {', '.join(chargers)}; name the"
                f" charger: POST /api/chargers/<charger>/sessions/{transaction_id}/stop",
                "id",
            )
        return await self._stop(chargers[0], transaction_id)

    def _running_sessions(self) -> set[tuple[str, str]]:
        """(charger id, transaction id) of every running session."""
        return {(s.charger_id, s.id) for s in self._source.snapshot().sessions}

    async def _stop(self, charger_id: str, transaction_id: str) -> web.Response:
        log.warning(
            "operator requested a remote stop of session %s on %s", transaction_id, charger_id
        )
        result = await self._actions.remote_stop(charger_id, transaction_id)
        body = {
            "charger_id": charger_id,
            "session_id": transaction_id,
            "accepted": result.accepted,
            "status": result.status,
            "detail": result.detail,
        }
        return web.json_response(body, status=200 if result.accepted else 409)
