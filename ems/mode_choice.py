"""Which charging mode a connector's session charges in: the operator's choice for that
session (`ModeChosen`, until the session ends), else the mode configured for the id token
it started with, else its charger's configured mode.

A mode only bounds what the session may draw below every limit (`ems.modes`), so an
operator choosing one never relaxes a limit or the conservative mode."""

from __future__ import annotations

from ems.events import ModeChosen
from ems.site import ChargingMode
from ems.state import ConnectorRuntime, SiteState


def mode_of(state: SiteState, runtime: ConnectorRuntime) -> ChargingMode:
    session = runtime.session
    if session is not None and session.mode is not None:
        return session.mode
    by_token = None if session is None else state.site.mode_for_token(session.id_token)
    return by_token or state.charger_of(runtime).config.mode


def choose_mode(state: SiteState, event: ModeChosen) -> bool:
    """Put the operator's mode on the session running on the connector now; False (and
    nothing changed) when none runs there or the mode is the one in force."""
    runtime = state.connector(event.charger_id, event.connector_id)
    if runtime is None or runtime.session is None:
        return False
    before = mode_of(state, runtime)
    runtime.session.mode = event.mode
    return mode_of(state, runtime) is not before
