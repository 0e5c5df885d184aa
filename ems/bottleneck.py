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
    candidates = [f"connector-{connector.key}-max"]
    for circuit_id in circuit_path(site, connector.circuit):
        candidates.extend(f"circuit-{circuit_id}-{p.name}" for p in phases)
    candidates.extend(f"site-{p.name}" for p in phases)
    candidates.append("site-power")
    return next((name for name in candidates if name in binding), None)
