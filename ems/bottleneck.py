"""Which limit holds a connector back, from the optimizer's binding constraints."""

from __future__ import annotations

from collections.abc import Collection

from ems.limit_check import circuit_path
from ems.site import ConnectorConfig, SiteConfig
from optimizer.problem import Phase


def bottleneck(
    site: SiteConfig,
    connector: ConnectorConfig,
    phases: tuple[Phase, ...],
    binding: Collection[str],
) -> str | None:
    """The tightest binding limit on this connector: its own bound, then the innermost
    circuit it hangs on, then the site."""
    candidates = [f"connector-{connector.key}-max", *shared_limits(site, connector, phases)]
    return next((name for name in candidates if name in binding), None)


def shared_limits(
    site: SiteConfig, connector: ConnectorConfig, phases: tuple[Phase, ...]
) -> list[str]:
    """The limits this connector shares with others, innermost first: each circuit it
    hangs on, then the site."""
    names = [
        f"circuit-{circuit_id}-{p.name}"
        for circuit_id in circuit_path(site, connector.circuit)
        for p in phases
    ]
    names.extend(f"site-{p.name}" for p in phases)
    names.append("site-power")
    return names
