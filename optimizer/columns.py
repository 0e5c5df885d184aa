"""The connectors of a problem as columns, read in one pass over the dataclasses.

Validation, the layout and the parameters all need the same fields of every connector;
reading them once with one `attrgetter` per connector is several times cheaper than
walking the dataclasses field by field in each of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter

from optimizer.problem import Connector, Phase

_FIELDS = attrgetter(
    "id",
    "phases",
    "max_current_a",
    "circuit",
    "min_current_a",
    "ev_present",
    "ev_phases",
    "ev_max_current_a",
    "priority",
    "arrival",
    "departure",
    "energy_need_wh",
    "previous_current_a",
    "ev_tapering",
)


@dataclass(frozen=True)
class ConnectorColumns:
    """One tuple per Connector field, in connector order (see `Connector`)."""

    ids: tuple[str, ...]
    phases: tuple[tuple[Phase, ...], ...]
    max_current_a: tuple[float, ...]
    circuit: tuple[str | None, ...]
    min_current_a: tuple[float, ...]
    ev_present: tuple[bool, ...]
    ev_phases: tuple[tuple[Phase, ...] | None, ...]
    ev_max_current_a: tuple[float | None, ...]
    priority: tuple[float, ...]
    arrival: tuple[datetime | None, ...]
    departure: tuple[datetime | None, ...]
    energy_need_wh: tuple[float | None, ...]
    previous_current_a: tuple[float | None, ...]
    ev_tapering: tuple[bool, ...]

    def __len__(self) -> int:
        return len(self.ids)


def columns_of(connectors: Sequence[Connector]) -> ConnectorColumns:
    if not connectors:
        return ConnectorColumns((), (), (), (), (), (), (), (), (), (), (), (), (), ())
    return ConnectorColumns(*zip(*map(_FIELDS, connectors), strict=True))
