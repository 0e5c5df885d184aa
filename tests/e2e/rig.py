"""A whole site on loopback: the meter simulator, simulated chargers with EVs, and the live
runtime in-process, all on 127.0.0.1 with ports the OS picks.

The simulated site meter sees what the site draws: the building's base load plus every
EV's actual current, mapped from the charger's phases onto the site phases as wired.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.files.app_config import AppConfig, load_app_config
from adapters.modbus.profile import LoadProfile
from adapters.modbus.register_map import Quantity, load_map
from adapters.modbus.simulator import MeterSimulator
from adapters.ocpp.sim import OCPP16, OCPP201, SimChargerConfig, SimulatedCharger, SimulatedEV
from adapters.runtime import SiteRuntime
from ems.site import SiteConfig
from optimizer.problem import PhaseTriple

PHASE_NAMES = ("L1", "L2", "L3")


class LiveMeterSimulator(MeterSimulator):
    """The meter simulator with the chargers' live draw added to its base-load profile."""

    def __init__(self, base_a: PhaseTriple, extra_a: Callable[[], PhaseTriple]) -> None:
        super().__init__(load_map("sdm630"), LoadProfile.constant(base_a))
        self._extra_a = extra_a

    def values_at(self, sim_time_s: float) -> dict[Quantity, float]:
        values = super().values_at(sim_time_s)
        total = 0.0
        for phase, extra in zip((1, 2, 3), self._extra_a(), strict=True):
            current = values[Quantity(f"current_l{phase}")] + extra
            power = values[Quantity(f"voltage_l{phase}")] * current
            values[Quantity(f"current_l{phase}")] = current
            values[Quantity(f"power_l{phase}")] = power
            total += power
        values[Quantity.TOTAL_POWER] = total
        return values


class SiteClock:
    """The chargers' clock: real time, which a test may move ahead (to let profiles lapse
    without waiting for them)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass(frozen=True)
class Station:
    """One simulated charger with one connector, and the EV plugged into it."""

    charger_id: str
    protocol: str
    phases: str
    """Site phases as in the config: `L1L2L3`, `L2L3L1`, `L2`..."""
    ev_max_a: float = 16.0
    priority: float = 1.0
    max_current_a: float = 32.0

    @property
    def one_phase(self) -> bool:
        return len(self.phases) == 2


@dataclass
class Rig:
    runtime: SiteRuntime
    meter: LiveMeterSimulator
    chargers: dict[str, SimulatedCharger]
    evs: dict[str, SimulatedEV]
    clock: SiteClock
    config: AppConfig
    stations: tuple[Station, ...]
    stopped: bool = field(default=False)

    @property
    def site(self) -> SiteConfig:
        return self.config.site

    def drawn_a(self) -> PhaseTriple:
        """What the EVs draw now, on site phases."""
        return site_draw(self.site, self.chargers)

    def site_current_a(self) -> PhaseTriple:
        """What the site meter measures now: base load plus the EVs."""
        values = self.meter.values_at(self.meter.sim_time())
        return (
            values[Quantity("current_l1")],
            values[Quantity("current_l2")],
            values[Quantity("current_l3")],
        )

    async def stop_controller(self) -> None:
        if not self.stopped:
            self.stopped = True
            await self.runtime.stop()

    async def close(self) -> None:
        await asyncio.gather(*(c.stop() for c in self.chargers.values()))
        await self.stop_controller()
        await self.meter.stop()


def site_draw(site: SiteConfig, chargers: dict[str, SimulatedCharger]) -> PhaseTriple:
    total = [0.0, 0.0, 0.0]
    for connector in site.connectors():
        sim = chargers.get(connector.charger_id)
        if sim is None:
            continue
        draw = sim.draw_a(connector.connector_id)
        for own, site_phase in enumerate(connector.phases):
            total[site_phase] += draw[own]
    return (total[0], total[1], total[2])


def config_text(
    stations: Sequence[Station],
    meter_port: int,
    *,
    limit_a: float,
    worst_a: PhaseTriple,
    control: str,
) -> str:
    lines = [
        "[site]",
        'name = "Loopback site"',
        f"limit_a = {limit_a}",
        f"worst_base_load_a = [{worst_a[0]}, {worst_a[1]}, {worst_a[2]}]",
        "",
    ]
    for station in stations:
        lines += [
            "[[chargers]]",
            f'id = "{station.charger_id}"',
            "  [[chargers.connectors]]",
            "  connector_id = 1",
            f'  phases = "{station.phases}"',
            f"  max_current_a = {station.max_current_a}",
            f"  priority = {station.priority}",
            "",
        ]
    lines += [
        "[control]",
        control,
        "",
        "[ocpp]",
        'host = "127.0.0.1"',
        "port = 0",
        'unknown_tokens = "accept"',
        "call_timeout_s = 5",
        "",
        "[http]",
        "port = 0",
        "",
        "[[meters]]",
        'id = "grid"',
        'map = "sdm630"',
        'host = "127.0.0.1"',
        f"port = {meter_port}",
        "interval_s = 0.25",
        "timeout_s = 0.2",
        "stale_after_s = 1",
        "frozen_after_s = 30",
        "reconnect_min_s = 0.25",
        "reconnect_max_s = 0.5",
        "",
        "[store]",
        'path = "site.sqlite"',
    ]
    return "\n".join(lines) + "\n"


async def start_rig(
    tmp_path: Path,
    stations: Sequence[Station],
    *,
    base_a: PhaseTriple,
    limit_a: float,
    worst_a: PhaseTriple,
    control: str,
) -> Rig:
    """Start the meter, the runtime and the chargers (booted, no EV yet)."""
    chargers: dict[str, SimulatedCharger] = {}
    site_holder: list[SiteConfig] = []

    def ev_draw() -> PhaseTriple:
        return site_draw(site_holder[0], chargers) if site_holder else (0.0, 0.0, 0.0)

    meter = LiveMeterSimulator(base_a, ev_draw)
    await meter.start()
    path = tmp_path / "site.toml"
    text = config_text(stations, meter.port, limit_a=limit_a, worst_a=worst_a, control=control)
    path.write_text(text, encoding="utf-8")
    config = load_app_config(path)
    site_holder.append(config.site)
    runtime = SiteRuntime(config)
    await runtime.start()
    clock = SiteClock()
    for station in stations:
        sim_config = SimChargerConfig(
            station.charger_id,
            station.protocol,
            max_current_a=station.max_current_a,
            number_phases=1 if station.one_phase else 3,
            meter_interval_s=0.5,
            heartbeat_interval_s=3600,
        )
        chargers[station.charger_id] = SimulatedCharger(sim_config, runtime.ocpp_url, clock=clock)
    await asyncio.gather(*(c.start() for c in chargers.values()))
    return Rig(runtime, meter, chargers, {}, clock, config, tuple(stations))


async def plug_in_all(rig: Rig) -> None:
    for station in rig.stations:
        ev = SimulatedEV(
            max_current_a=station.ev_max_a,
            charger_phases=(1,) if station.one_phase else (1, 2, 3),
        )
        rig.evs[station.charger_id] = ev
        await rig.chargers[station.charger_id].plug_in(1, ev)


async def wait_until(
    condition: Callable[[], bool], timeout_s: float, what: str, step_s: float = 0.1
) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for: {what}")
        await asyncio.sleep(step_s)


STATIONS = (
    Station("CP01", OCPP16, "L1L2L3"),
    Station("CP02", OCPP201, "L2L3L1"),
    Station("CP03", OCPP16, "L3L1L2"),
    Station("CP04", OCPP201, "L1L2L3"),
    Station("CP05", OCPP16, "L1L2L3"),
    Station("CP06", OCPP201, "L1L2L3", ev_max_a=32.0, priority=3.0),
    Station("CP07", OCPP16, "L1", ev_max_a=20.0),
    Station("CP08", OCPP201, "L2", ev_max_a=20.0),
    Station("CP09", OCPP16, "L3", ev_max_a=20.0),
    Station("CP10", OCPP201, "L2", ev_max_a=20.0),
)
"""Ten chargers, both protocols: six 3-phase (two rotated) and four 1-phase on every site
phase; CP06 has priority 3 and the EV that will taper."""
