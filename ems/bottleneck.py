"""Which limit holds a connector back, from the optimizer's binding constraints."""

from __future__ import annotations

from collections.abc import Collection

from ems.limit_check import circuit_path, limits_over
from ems.site import ConnectorConfig, SiteConfig
from optimizer.problem import Phase


def bottleneck(
    connector: ConnectorConfig, binding: Collection[str], shared: str | None
) -> str | None:
    """The tightest binding limit on this connector: its own bound, then `shared`, its
    `shared_binding` (the innermost circuit it hangs on, then the site), which the caller
    has at hand (the control step reads it for the rate limit too)."""
    own = f"connector-{connector.key}-max"
    return own if own in binding else shared


def shared_binding(
    site: SiteConfig,
    connector: ConnectorConfig,
    phases: tuple[Phase, ...],
    binding: Collection[str],
) -> str | None:
    """The tightest binding limit this connector shares with others (`_shared_limits`), if
    any: there the room it leaves unused is room no session gets."""
    for name in _shared_limits(site, connector, phases):  # no generator: read every step
        if name in binding:
            return name
    return None


def _shared_limits(
    site: SiteConfig, connector: ConnectorConfig, phases: tuple[Phase, ...]
) -> tuple[str, ...]:
    """The limits this connector shares with others, innermost first: each circuit it
    hangs on, then the site."""
    return limits_over(circuit_path(site, connector.circuit), phases)
