"""The floor under `benchmarks.peer --latency`: the same charge-point simulator against a
central system that answers every call at once with the smallest valid answer and does
nothing else — no store, no schema check, no controller, no profiles. What the simulator
reports against it is what this machine and the simulator cost by themselves."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.typing import Subprotocol

SUBPROTOCOLS = (Subprotocol("ocpp1.6"), Subprotocol("ocpp2.0.1"))
ACCEPTED_16 = {"idTagInfo": {"status": "Accepted"}}
ACCEPTED_201 = {"idTokenInfo": {"status": "Accepted"}}
_transactions = itertools.count(1)


def answer(version: str, action: str) -> dict[str, Any]:
    """The smallest valid answer to `action` in OCPP `version` ("ocpp1.6"/"ocpp2.0.1")."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    if action == "BootNotification":
        return {"status": "Accepted", "currentTime": now, "interval": 300}
    if action == "Heartbeat":
        return {"currentTime": now}
    if action == "Authorize":
        return ACCEPTED_16 if version == "ocpp1.6" else ACCEPTED_201
    if action == "StartTransaction":
        return {"transactionId": next(_transactions), **ACCEPTED_16}
    if action == "DataTransfer":
        return {"status": "Accepted"}
    return {}


async def _answer_all(connection: ServerConnection) -> None:
    version = connection.subprotocol or "ocpp1.6"
    async for message in connection:
        frame = json.loads(message)
        if isinstance(frame, list) and len(frame) >= 3 and frame[0] == 2:
            await connection.send(json.dumps([3, frame[1], answer(version, frame[2])]))


async def floor_server() -> Server:
    """Listening on 127.0.0.1, on a free port (`server.sockets[0].getsockname()[1]`)."""
    return await serve(_answer_all, "127.0.0.1", 0, subprotocols=list(SUBPROTOCOLS))
