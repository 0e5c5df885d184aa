"""Checks a Problem before anything is built from it.

Bad data is an error that names the thing (connector or circuit id, or `site`/`horizon`/`lookahead`)
and the field, so the caller can point at the config line or the device that sent it.

The connectors and the horizon series are first checked in bulk (numpy over columns);
only when that finds something wrong (or data of an unexpected type) does the walk one
value at a time run, which raises the error naming the first bad value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from itertools import chain, permutations
from operator import attrgetter

import numpy as np

from optimizer.columns import ConnectorColumns, columns_of
from optimizer.parameters import FloatArray
from optimizer.problem import Circuit, Connector, Horizon, Lookahead, Phase, PowerPeriod, Problem

WIRINGS = frozenset(
    wiring for count in range(1, len(Phase) + 1) for wiring in permutations(Phase, count)
)
"""Every valid phase list: one to three distinct site phases, in any order."""
_ZONE = attrgetter("tzinfo")
_START = attrgetter("start")
_POWER = attrgetter("power_w")


class ProblemError(ValueError):
    """Invalid problem data. `subject` is a connector/circuit id, `site`, `horizon` or
    `lookahead`."""

    def __init__(self, subject: str, field: str, message: str) -> None:
        super().__init__(f"{subject}: {field}: {message}")
        self.subject = subject
        self.field = field
        self.message = message


def validate(problem: Problem) -> None:
    """Raise ProblemError on the first invalid value found; return None if all is well."""
    validate_columns(problem, columns_of(problem.connectors))


def validate_columns(problem: Problem, columns: ConnectorColumns) -> None:
    """As `validate`, with the problem's connectors already read into `columns`."""
    _check_site(problem)
    _check_base_load("site", "base_load_a", problem.base_load_a)
    circuit_ids = _check_circuits(problem.circuits)
    if not _connectors_pass(columns, circuit_ids):
        _check_connectors(problem.connectors, circuit_ids)
    if problem.horizon is not None and not _horizon_passes(problem.horizon):
        _check_horizon(problem.horizon)
    if problem.lookahead is not None:
        _check_lookahead(problem.lookahead)


def _numbers(values: Sequence[float | None]) -> FloatArray:
    return np.asarray([0.0 if v is None else v for v in values], dtype=np.float64)


def _plain_numbers(c: ConnectorColumns) -> bool:
    """Every numeric field holds an int or a float (or None where optional), not a string."""
    required = chain(c.max_current_a, c.min_current_a, c.priority)
    optional = chain(c.ev_max_current_a, c.energy_need_wh, c.previous_current_a)
    return _plain(required) and _plain(optional, optional=True)


def _plain(values: Iterable[object], optional: bool = False) -> bool:
    kinds = set(map(type, values))
    if optional:
        kinds.discard(type(None))
    return all(issubclass(kind, int | float) for kind in kinds)


def _all_phases(wirings: Sequence[tuple[Phase, ...]]) -> bool:
    """Every wiring is a tuple of distinct Phase members (not mere integers)."""
    return set(map(type, chain.from_iterable(wirings))) <= {Phase} and set(wirings) <= WIRINGS


def _connectors_pass(c: ConnectorColumns, circuit_ids: set[str]) -> bool:
    """True when every connector is certainly valid; False sends it to the full walk."""
    try:
        if len(set(c.ids)) != len(c) or not _all_phases(c.phases):
            return False
        ev = [(e, p) for e, p in zip(c.ev_phases, c.phases, strict=True) if e is not None]
        if not _all_phases([e for e, _ in ev]) or any(not set(e) <= set(p) for e, p in ev):
            return False
        if not set(c.circuit) <= circuit_ids | {None} or not _plain_numbers(c):
            return False
        # one array for the six fields: max, min, EV max, previous (non-negative), priority, need
        fields = (
            c.max_current_a,
            c.min_current_a,
            c.ev_max_current_a,
            c.previous_current_a,
            c.priority,
            c.energy_need_wh,
        )
        values = _numbers(tuple(chain.from_iterable(fields))).reshape(len(fields), len(c))
        non_negative, priority = values[:4], values[4]
        numbers_ok = (
            np.isfinite(non_negative).all()
            and (non_negative >= 0.0).all()
            and (values[1] <= values[0]).all()
            and np.isfinite(priority).all()
            and (priority > 0.0).all()
            and np.isfinite(values[5]).all()
        )
        return bool(numbers_ok) and _all_aware(c)
    except (TypeError, ValueError, OverflowError, AttributeError):
        return False


def _all_aware(c: ConnectorColumns) -> bool:
    """Every arrival and departure is aware; a fixed-offset zone (UTC) always is."""
    moments = [m for m in chain(c.arrival, c.departure) if m is not None]
    zones = set(map(_ZONE, moments))
    if all(type(zone) is timezone for zone in zones):
        return True
    return all(m.utcoffset() is not None for m in moments)


def _series_ok(values: Sequence[object], shape: tuple[int, ...], floor: float) -> bool:
    """Of this shape, finite, and at least `floor`."""
    array = np.asarray(values, dtype=np.float64)
    return array.shape == shape and bool(np.isfinite(array).all() and (array >= floor).all())


def _horizon_passes(horizon: Horizon) -> bool:
    """True when the horizon is certainly valid; False sends it to the full walk."""
    try:
        steps = horizon.steps
        if not (
            horizon.start.utcoffset() is not None
            and math.isfinite(horizon.step_s)
            and horizon.step_s > 0.0
            and steps >= 1
            and (horizon.peak_price_per_kw is None or 0.0 <= horizon.peak_price_per_kw < math.inf)
        ):
            return False
        base = horizon.base_load_a
        if base is not None and not (
            _plain(chain.from_iterable(base)) and _series_ok(base, (steps, 3), -math.inf)
        ):
            return False
        for series, floor in ((horizon.price_per_kwh, -math.inf), (horizon.phase_limit_a, 0.0)):
            if series is not None and not (_plain(series) and _series_ok(series, (steps,), floor)):
                return False
    except (TypeError, ValueError, OverflowError, AttributeError):
        return False
    return True


def _require(ok: bool, subject: str, field: str, message: str) -> None:
    if not ok:
        raise ProblemError(subject, field, message)


def _finite_non_negative(value: float, subject: str, field: str) -> None:
    if not (math.isfinite(value) and value >= 0.0):
        raise ProblemError(subject, field, f"must be a finite, non-negative number, got {value!r}")


def _check_site(problem: Problem) -> None:
    site = problem.site
    _finite_non_negative(site.phase_limit_a, "site", "phase_limit_a")
    if site.power_limit_w is not None:
        _finite_non_negative(site.power_limit_w, "site", "power_limit_w")
    _require(
        math.isfinite(site.voltage_v) and site.voltage_v > 0.0,
        "site",
        "voltage_v",
        f"must be positive, got {site.voltage_v!r}",
    )


def _check_base_load(subject: str, field: str, triple: Sequence[float]) -> None:
    if len(triple) != 3:
        raise ProblemError(subject, field, f"needs 3 phases, got {len(triple)}")
    for value in triple:
        if not math.isfinite(value):
            raise ProblemError(subject, field, f"must be finite, got {value!r}")


def _check_circuits(circuits: Sequence[Circuit]) -> set[str]:
    ids: set[str] = set()
    for circuit in circuits:
        _require(circuit.id not in ids, circuit.id, "id", "duplicate circuit id")
        ids.add(circuit.id)
        _finite_non_negative(circuit.limit_a, circuit.id, "limit_a")
    parents = {c.id: c.parent for c in circuits}
    for circuit in circuits:
        if circuit.parent is not None and circuit.parent not in ids:
            raise ProblemError(circuit.id, "parent", f"unknown circuit {circuit.parent!r}")
    for circuit in circuits:
        seen = {circuit.id}
        parent = circuit.parent
        while parent is not None:
            _require(parent not in seen, circuit.id, "parent", "circuits form a cycle")
            seen.add(parent)
            parent = parents[parent]
    return ids


def _check_phases(subject: str, field: str, phases: Sequence[Phase]) -> None:
    if not phases:
        raise ProblemError(subject, field, "needs at least one phase")
    for phase in phases:
        if not isinstance(phase, Phase):
            raise ProblemError(subject, field, f"unknown phase {phase!r} (use L1, L2, L3)")
    if len(set(phases)) != len(phases):
        raise ProblemError(subject, field, "a phase is listed twice")


def _check_connectors(connectors: Sequence[Connector], circuit_ids: set[str]) -> None:
    ids: set[str] = set()
    for c in connectors:
        if c.id in ids:
            raise ProblemError(c.id, "id", "duplicate connector id")
        ids.add(c.id)
        _check_connector(c, circuit_ids)


def _check_connector(c: Connector, circuit_ids: set[str]) -> None:
    _check_phases(c.id, "phases", c.phases)
    if c.ev_phases is not None:
        _check_phases(c.id, "ev_phases", c.ev_phases)
        if not set(c.ev_phases) <= set(c.phases):
            raise ProblemError(c.id, "ev_phases", "must be a subset of the connector's phases")
    if c.circuit is not None and c.circuit not in circuit_ids:
        raise ProblemError(c.id, "circuit", f"unknown circuit {c.circuit!r}")
    _finite_non_negative(c.max_current_a, c.id, "max_current_a")
    _finite_non_negative(c.min_current_a, c.id, "min_current_a")
    if c.min_current_a > c.max_current_a:
        raise ProblemError(
            c.id,
            "min_current_a",
            f"{c.min_current_a} A is above max_current_a {c.max_current_a} A",
        )
    if c.ev_max_current_a is not None:
        _finite_non_negative(c.ev_max_current_a, c.id, "ev_max_current_a")
    if not (math.isfinite(c.priority) and c.priority > 0.0):
        raise ProblemError(c.id, "priority", f"must be a positive weight, got {c.priority!r}")
    if c.energy_need_wh is not None and not math.isfinite(c.energy_need_wh):
        raise ProblemError(c.id, "energy_need_wh", f"must be finite, got {c.energy_need_wh!r}")
    if c.previous_current_a is not None:
        _finite_non_negative(c.previous_current_a, c.id, "previous_current_a")
    _check_aware(c.id, "arrival", c.arrival)
    _check_aware(c.id, "departure", c.departure)


def _check_aware(subject: str, field: str, moment: datetime | None) -> None:
    if moment is not None and moment.utcoffset() is None:
        raise ProblemError(subject, field, "must be an aware datetime (UTC), got a naive one")


def _check_start_and_step(subject: str, start: datetime, step_s: float) -> None:
    """A plan's start is an aware datetime and its step a positive number of seconds."""
    _check_aware(subject, "start", start)
    _require(
        math.isfinite(step_s) and step_s > 0.0,
        subject,
        "step_s",
        f"must be positive, got {step_s!r}",
    )


def _check_lookahead(lookahead: Lookahead) -> None:
    _check_start_and_step("lookahead", lookahead.start, lookahead.step_s)
    previous: datetime | None = None
    for period in lookahead.prices:
        _check_aware("lookahead", "prices", period.start)
        if not math.isfinite(period.price_per_kwh):
            raise ProblemError("lookahead", "prices", f"not finite: {period.price_per_kwh!r}")
        if previous is not None and period.start <= previous:
            raise ProblemError("lookahead", "prices", f"start {period.start} does not increase")
        previous = period.start
    if not _base_import_passes(lookahead.base_import):
        for base in lookahead.base_import:
            _check_aware("lookahead", "base_import", base.start)
            if not math.isfinite(base.power_w):
                raise ProblemError("lookahead", "base_import", f"not finite: {base.power_w!r}")
    if not math.isfinite(lookahead.export_price_per_kwh):
        raise ProblemError("lookahead", "export_price_per_kwh", "must be finite")
    _finite_non_negative(lookahead.peak_price_per_kw, "lookahead", "peak_price_per_kw")
    _finite_non_negative(lookahead.peak_so_far_w, "lookahead", "peak_so_far_w")


def _base_import_passes(periods: Sequence[PowerPeriod]) -> bool:
    """True when every period is certainly valid (a fixed-offset start, a finite power);
    False sends them to the walk one at a time. A look-ahead may carry a day of them."""
    try:
        zones = set(map(_ZONE, map(_START, periods)))
        powers = list(map(_POWER, periods))
        return (
            all(type(zone) is timezone for zone in zones)
            and _plain(powers)
            and bool(np.isfinite(np.asarray(powers, dtype=np.float64)).all())
        )
    except (TypeError, ValueError, OverflowError, AttributeError):
        return False


def _check_horizon(horizon: Horizon) -> None:
    _check_start_and_step("horizon", horizon.start, horizon.step_s)
    _require(horizon.steps >= 1, "horizon", "steps", f"must be at least 1, got {horizon.steps}")
    series: dict[str, Sequence[object] | None] = {
        "base_load_a": horizon.base_load_a,
        "price_per_kwh": horizon.price_per_kwh,
        "phase_limit_a": horizon.phase_limit_a,
    }
    for name, values in series.items():
        if values is not None:
            _require(
                len(values) == horizon.steps,
                "horizon",
                name,
                f"has {len(values)} entries, expected {horizon.steps}",
            )
    if horizon.base_load_a is not None:
        for triple in horizon.base_load_a:
            _check_base_load("horizon", "base_load_a", triple)
    if horizon.price_per_kwh is not None:
        for price in horizon.price_per_kwh:
            if not math.isfinite(price):
                raise ProblemError("horizon", "price_per_kwh", f"not finite: {price!r}")
    if horizon.phase_limit_a is not None:
        for limit in horizon.phase_limit_a:
            _finite_non_negative(limit, "horizon", "phase_limit_a")
    if horizon.peak_price_per_kw is not None:
        _finite_non_negative(horizon.peak_price_per_kw, "horizon", "peak_price_per_kw")
