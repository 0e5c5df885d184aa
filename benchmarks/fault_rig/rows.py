"""The fault rows: `FaultRow` (the stations of one row and its `Action`s, timed from the
fault on), the action constructors (`arrive`, `leave`, `boot`, `meter`, `building`, `taper`,
`kill_controller`, `restart_controller`, timed with `at`), `ROWS` by name and
`select_rows`."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapters.ocpp.sim import OCPP16, OCPP201
from benchmarks.fault_rig.meter import MeterFault
from benchmarks.fault_rig.site import BASE_STATIONS, Station

if TYPE_CHECKING:
    from benchmarks.fault_rig.rig import FaultRig

Act = Callable[["FaultRig"], Awaitable[None]]


@dataclass(frozen=True)
class Action:
    at_s: float
    """Seconds after the fault starts."""
    label: str
    act: Act


@dataclass(frozen=True)
class FaultRow:
    name: str
    title: str
    stations: tuple[Station, ...]
    actions: tuple[Action, ...]
    seconds: float = 10.0
    """Default length of the run from the fault on."""
    meter_fault: bool = False
    """A meter fault: the controller must turn conservative."""
    unknown_chargers: str = "reject"


def arrive(charger_id: str) -> Action:
    async def act(rig: FaultRig) -> None:
        await rig.plug_in(charger_id)

    return Action(0.0, f"EV arrives at {charger_id}", act)


def leave(charger_id: str) -> Action:
    async def act(rig: FaultRig) -> None:
        await rig.unplug(charger_id)

    return Action(0.0, f"EV leaves {charger_id}", act)


def boot(charger_id: str) -> Action:
    async def act(rig: FaultRig) -> None:
        await rig.boot(charger_id)

    return Action(0.0, f"{charger_id} connects", act)


def meter(fault: MeterFault) -> Action:
    async def act(rig: FaultRig) -> None:
        rig.meter.fault = fault

    return Action(0.0, f"meter fault: {fault.value}", act)


def building(which: str, over_s: float = 1.0) -> Action:
    async def act(rig: FaultRig) -> None:
        target = rig.spec.building_high_a if which == "high" else rig.spec.building_low_a
        rig.building.ramp_to(target, over_s)

    return Action(0.0, f"building load goes {which}", act)


def taper(charger_id: str, soc_pct: float = 95.0) -> Action:
    async def act(rig: FaultRig) -> None:
        ev = rig.evs.get(charger_id)
        if ev is not None:
            ev.soc_pct = soc_pct

    return Action(0.0, f"EV at {charger_id} tapers", act)


def kill_controller() -> Action:
    async def act(rig: FaultRig) -> None:
        await rig.controller.kill()

    return Action(0.0, "controller killed (SIGKILL)", act)


def restart_controller() -> Action:
    async def act(rig: FaultRig) -> None:
        await rig.controller.start()

    return Action(0.0, "controller restarted", act)


def at(seconds: float, action: Action) -> Action:
    return dataclasses.replace(action, at_s=seconds)


def _with(*extra: Station, changed: dict[str, dict[str, Any]] | None = None) -> tuple[Station, ...]:
    changed = changed or {}
    stations = tuple(dataclasses.replace(s, **changed.get(s.charger_id, {})) for s in BASE_STATIONS)
    return stations + extra


def _meter_row(name: str, title: str, fault: MeterFault) -> FaultRow:
    """The meter starts lying; half a second later an EV arrives (our chargers' draw moves
    by its fallback, the meter should move with it: a meter that does not must not be
    trusted for the raise that follows); at 6 s the building rises to near its worst."""
    return FaultRow(
        name,
        title,
        BASE_STATIONS,
        (at(0, meter(fault)), at(0.5, arrive("CP06")), at(6, building("high"))),
        meter_fault=True,
    )


ROWS: dict[str, FaultRow] = {
    row.name: row
    for row in (
        FaultRow(
            "normal",
            "honest meter, demand above the fuse; an arrival, the building falls, an EV tapers",
            BASE_STATIONS,
            (at(1, arrive("CP06")), at(4, building("low")), at(7, taper("CP04"))),
        ),
        _meter_row("frozen", "meter frozen (serves its last values)", MeterFault.FREEZE),
        _meter_row("lagging", "meter lagging (values 6 s old)", MeterFault.LAG),
        _meter_row("blind", "meter blind to the EVs (behind_meter = true)", MeterFault.BLIND),
        _meter_row("inverted", "meter sign inverted (import read as export)", MeterFault.INVERT),
        _meter_row(
            "wrong_fc", "meter read with the wrong function code (zeros)", MeterFault.WRONG_FC
        ),
        _meter_row("word_order", "meter read with the wrong word order", MeterFault.WORD_ORDER),
        FaultRow(
            "restart",
            "kill -9 of the controller, restart in 2 s; CP02 and CP03 reconnect 10-12 s late",
            _with(
                changed={"CP02": {"reconnect_delay_s": 12.0}, "CP03": {"reconnect_delay_s": 10.0}}
            ),
            (at(1, kill_controller()), at(3, restart_controller()), at(8, arrive("CP06"))),
            seconds=17.0,
        ),
        FaultRow(
            "noncompliant",
            "CP07 draws its maximum whatever it is sent; it charges again after a new plug-in",
            _with(Station("CP07", OCPP16, "L2L3L1", ignore_profiles=True, early=True)),
            (at(1, leave("CP07")), at(4, arrive("CP07")), at(7, arrive("CP06"))),
        ),
        FaultRow(
            "refusing",
            "CP08 refuses every profile; an EV arrives there",
            _with(Station("CP08", OCPP201, "L3", reject_profiles=True, plugs=False)),
            (at(1, arrive("CP08")), at(5, arrive("CP06"))),
        ),
        FaultRow(
            "unknown",
            "CP09, not in [[chargers]], admitted by policy, plugs in an EV",
            _with(Station("CP09", OCPP16, "L1L2L3", configured=False, plugs=False, boots=False)),
            (at(0, boot("CP09")), at(3, arrive("CP09")), at(7, arrive("CP06"))),
            unknown_chargers="accept",
        ),
    )
}


def select_rows(names: Sequence[str] | None) -> list[FaultRow]:
    if not names:
        return list(ROWS.values())
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        raise KeyError(f"unknown rows {unknown}; known: {', '.join(ROWS)}")
    return [ROWS[n] for n in names]
