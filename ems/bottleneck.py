"""Which limit holds a connector back, from the optimizer's binding constraints."""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache

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
    own = f"connector-{connector.key}-max"
    return own if own in binding else shared_binding(site, connector, phases, binding)


def shared_binding(
    site: SiteConfig,
    connector: ConnectorConfig,
    phases: tuple[Phase, ...],
    binding: Collection[str],
) -> str | None:
    """The tightest binding limit this connector shares with others (`_shared_limits`), if
    any: there the room it leaves unused is room no session gets."""
    return next((name for name in _shared_limits(site, connector, phases) if name in binding), None)


def _shared_limits(
    site: SiteConfig, connector: ConnectorConfig, phases: tuple[Phase, ...]
) -> tuple[str, ...]:
    """The limits this connector shares with others, innermost first: each circuit it
    hangs on, then the site."""
    return _limit_names(circuit_path(site, connector.circuit), phases)


@lru_cache(maxsize=1024)
def _limit_names(path: tuple[str, ...], phases: tuple[Phase, ...]) -> tuple[str, ...]:
    """The names of the limits on `phases` of each circuit in `path`, then of the site:
    spelled once per wiring, as every steered connector asks at every step."""
    names = [f"circuit-{circuit_id}-{p.name}" for circuit_id in path for p in phases]
    names.extend(f"site-{p.name}" for p in phases)
    names.append("site-power")
    return tuple(names)
