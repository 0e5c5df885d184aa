"""The shape of a problem: what the model's structure depends on, and nothing else.

Two problems with equal `Layout`s share one built model; only numbers change between them.
The shape is the connector ids with their wiring and circuit, the circuit tree, the
number of steps and which optional constraint families and objective terms exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.columns import ConnectorColumns
from optimizer.problem import Problem

PHASE_COUNT = 3


@dataclass(frozen=True)
class Layout:
    """Index structure of a problem's shape.

    `member[k, c]` is True when connector c sits in circuit k's subtree. Per-step row
    templates are ordered: the three site phases, then circuit k phase p at
    `3 + 3 k + p`, then the power row if there is a power cap.
    """

    connector_ids: tuple[str, ...]
    wiring: tuple[tuple[int, ...], ...]
    """Site phases per connector (`Phase` members, which are ints)."""
    connector_circuit: tuple[str | None, ...]
    circuit_ids: tuple[str, ...]
    circuit_parent: tuple[str | None, ...]
    steps: int
    has_horizon: bool
    has_power_cap: bool
    has_peak: bool
    has_previous: bool

    @property
    def n_connectors(self) -> int:
        return len(self.connector_ids)

    @property
    def n_row_templates(self) -> int:
        """Constraint rows per step in the dense per-step form (see class docstring)."""
        return PHASE_COUNT * (1 + len(self.circuit_ids)) + (1 if self.has_power_cap else 0)

    def member(self) -> npt.NDArray[np.bool_]:
        """`member[k, c]`: connector c is in circuit k or below it."""
        index = {cid: k for k, cid in enumerate(self.circuit_ids)}
        parent = dict(zip(self.circuit_ids, self.circuit_parent, strict=True))
        result = np.zeros((len(self.circuit_ids), self.n_connectors), dtype=bool)
        for c, circuit in enumerate(self.connector_circuit):
            node = circuit
            while node is not None:
                result[index[node], c] = True
                node = parent[node]
        return result

    def wired(self) -> npt.NDArray[np.bool_]:
        """`wired[c, p]`: connector c is wired to site phase p."""
        result = np.zeros((self.n_connectors, PHASE_COUNT), dtype=bool)
        for c, phases in enumerate(self.wiring):
            result[c, list(phases)] = True
        return result


def layout_of(problem: Problem, columns: ConnectorColumns) -> Layout:
    """The shape of a (validated) problem whose connectors are read into `columns`."""
    horizon = problem.horizon
    wiring = columns.phases
    if not set(map(type, wiring)) <= {tuple}:
        wiring = tuple(tuple(phases) for phases in wiring)
    return Layout(
        connector_ids=columns.ids,
        wiring=wiring,
        connector_circuit=columns.circuit,
        circuit_ids=tuple(c.id for c in problem.circuits),
        circuit_parent=tuple(c.parent for c in problem.circuits),
        steps=horizon.steps if horizon is not None else 1,
        has_horizon=horizon is not None,
        has_power_cap=problem.site.power_limit_w is not None,
        has_peak=horizon is not None and horizon.peak_price_per_kw is not None,
        has_previous=any(v is not None for v in columns.previous_current_a),
    )
