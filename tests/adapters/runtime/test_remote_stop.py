"""The operator's remote stop through the runtime's real edges: HTTP in, OCPP out.

OCPP 2.0.1 transaction ids are the station's own, so two stations may both run "1": the
stop names the charger along with the transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from ocpp.v201 import call as call201

from adapters.files.app_config import load_app_config
from adapters.runtime import SiteRuntime
from tests.adapters.ocpp.stations import station201
from tests.adapters.runtime.site import write_site
from tests.e2e.rig import wait_until

AUTH = {"Authorization": "Bearer operator-token-for-tests"}
NOW = "2024-05-01T12:00:00Z"


async def start_transaction_1(station: Any) -> None:
    await station.call(
        call201.BootNotification(
            charging_station={"model": "Pole", "vendor_name": "Acme"}, reason="PowerUp"
        ),
        suppress=False,
    )
    await station.call(
        call201.TransactionEvent(
            event_type="Started",
            timestamp=NOW,
            trigger_reason="CablePluggedIn",
            seq_no=0,
            transaction_info={"transactionId": "1", "chargingState": "EVConnected"},
            evse={"id": 1, "connectorId": 1},
        ),
        suppress=False,
    )


async def post(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.post(url, headers=AUTH) as response:
        return response.status, await response.json()


async def test_the_stop_reaches_the_named_charger_of_two_running_the_same_id(
    tmp_path: Path,
) -> None:
    runtime = SiteRuntime(load_app_config(write_site(tmp_path)))
    await runtime.start()
    try:
        async with (
            station201(runtime.central, "CP2") as cp2,
            station201(runtime.central, "CP3") as cp3,
        ):
            await start_transaction_1(cp2)
            await start_transaction_1(cp3)
            await wait_until(
                lambda: len(runtime.status.snapshot().sessions) == 2, 10, "both sessions running"
            )
            base = f"http://127.0.0.1:{runtime.http_port}/api"

            ambiguous, refusal = await post(f"{base}/sessions/1/stop")
            status, answer = await post(f"{base}/chargers/CP3/sessions/1/stop")
            request = await cp3.inbox.wait_for("RequestStopTransaction")
    finally:
        await runtime.stop()

    assert ambiguous == 409
    assert ("CP2" in refusal["error"], "CP3" in refusal["error"]) == (True, True)
    assert (status, answer["charger_id"], answer["accepted"]) == (200, "CP3", True)
    assert request == {"transaction_id": "1"}
    assert "RequestStopTransaction" not in cp2.inbox.actions()
