"""Small builders for optimizer tests."""

from __future__ import annotations

from datetime import UTC, datetime

from optimizer import Connector, Phase

THREE = (Phase.L1, Phase.L2, Phase.L3)
START = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)


def ev(cid: str, phases: tuple[Phase, ...] = THREE, max_a: float = 32.0, **kw: object) -> Connector:
    """A connector with an EV plugged in."""
    return Connector(id=cid, phases=phases, max_current_a=max_a, ev_present=True, **kw)  # type: ignore[arg-type]
