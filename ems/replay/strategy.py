"""The interface every replayed strategy implements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from ems.replay.view import StepView


class Strategy(Protocol):
    """Decides, at each step, each plugged-in EV's allowed per-phase current.

    The answer maps connector keys to amperes per phase; a plugged-in connector missing
    from it has no limit of ours and the EV draws up to the connector's maximum.
    """

    def decide(self, view: StepView) -> Mapping[str, float]: ...
