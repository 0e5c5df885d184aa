"""The OCPP central system (1.6J and 2.0.1 over WebSocket) for the runtime.

    settings = parse_ocpp_section(toml["ocpp"], path, text)    # or OcppSettings(...)
    store = SqliteStore("ems.sqlite")
    system = CentralSystem(settings, store, on_event=queue.put_nowait,
                           number_phases=lambda charger_id, connector_id: 3)
    await system.start()            # listens; `system.port` is the bound port (port 0 → free)
    ...
    answer = await system.send(set_limit)          # SetLimit  -> ems.events.ProfileAnswer
    result = await system.send(clear_limit)        # ClearLimit -> CallResult
    result = await system.call("CP1", Request("GetConfiguration", {}))   # any request
    result = await system.remote_start("CP1", "TAG1", connector_id=1)
    result = await system.remote_stop("CP1", transaction_id="17")
    result = await system.reset("CP1", hard=False)
    result = await system.change_availability("CP1", connector_id=1, operative=False)
    result = await system.trigger_message("CP1", "MeterValues", connector_id=1)
    result = await system.unlock_connector("CP1", 1)
    result = await system.get_composite_schedule("CP1", 1, duration_s=3600)
    system.connected_chargers(); system.protocol_of("CP1"); system.capabilities_of("CP1")
    await system.stop()

Chargers connect to `ws[s]://HOST:PORT/<path_prefix>/<chargerId>` offering the
subprotocol `ocpp1.6` or `ocpp2.0.1`. What they send reaches `on_event` as typed
`ems.events` (ChargerConnected/Disconnected, ChargerCapabilities, StatusChanged,
SessionStarted/Ended, MeterSample, EnergyNeed), each after the store has recorded it.
`on_event` is called on the event loop and must not block.

Outbound calls never return None: a `CallResult(ok, status, payload, error_code,
error_description)` with `status` the charger's status, `Timeout`, `Offline`,
`InvalidRequest` or `CallError:<code>`. One call is in flight per charger; others queue.
Version-specific requests: `v16.requests` (GetConfiguration/ChangeConfiguration) and
`v201.requests` (GetVariables/SetVariables) build `Request`s for `call`.

Open transactions after a restart are in the store (`store.list_transactions(open_only=
True)`); chargers continue them with the same ids.
"""

from adapters.ocpp.config import OcppSettings, parse_ocpp_section
from adapters.ocpp.results import CallResult, CallStatus, Request
from adapters.ocpp.server import CentralSystem

__all__ = [
    "CallResult",
    "CallStatus",
    "CentralSystem",
    "OcppSettings",
    "Request",
    "parse_ocpp_section",
]
