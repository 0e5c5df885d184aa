"""The rig that runs a row: `FaultRig` holds one row's world (meter, chargers, EVs,
building, the controller process and the samplers), settles it, starts the fault and runs
the row's actions; `run_row` runs one row in a working directory and writes its results
there."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp

from adapters.ocpp.sim import ChargerBehaviour, SimChargerConfig, SimulatedCharger, SimulatedEV
from benchmarks.fault_rig.config import config_text
from benchmarks.fault_rig.meter import SiteMeter
from benchmarks.fault_rig.process import ControllerProcess, free_port
from benchmarks.fault_rig.results import SAMPLE_S, Observation, RowResult, Sample
from benchmarks.fault_rig.rows import FaultRow
from benchmarks.fault_rig.site import PHASE_NAMES, Building, PhaseTriple, SiteSpec
from ems.commands import ProfilePurpose

POLL_S = 0.25
"""How often the rig asks the controller's HTTP API for its mode."""
BOOT_TIMEOUT_S = 10.0
PLUG_TIMEOUT_S = 10.0
DEFAULTS_TIMEOUT_S = 10.0
HTTP_TIMEOUT_S = 1.0
AROUND_OVER_S = (2.0, 0.5)
"""The controller's log is quoted from this long before the first over to this long after."""


class FaultRig:
    """One row's world: meter, chargers, EVs, building, the controller process, and the
    samplers. `await rig.run(seconds)` runs the row and returns what it measured; `close()`
    (also on failure) ends everything it started."""

    def __init__(self, row: FaultRow, workdir: Path, spec: SiteSpec | None = None) -> None:
        self.row = row
        self.spec = spec or SiteSpec()
        self.workdir = workdir
        self.stations = {s.charger_id: s for s in row.stations}
        self.building = Building(self.spec.building_a)
        self.meter = SiteMeter(self.site_a, self.building.now_a, self.spec.lag_s)
        self.controller = ControllerProcess(workdir / "site.toml", workdir)
        self.chargers: dict[str, SimulatedCharger] = {}
        self.evs: dict[str, SimulatedEV] = {}
        self.fault_at: float | None = None
        self.result = RowResult(row.name, row.title, row.seconds, limit_a=self.spec.limit_a)
        self.result.meter_fault = row.meter_fault
        self._tasks: list[asyncio.Task[None]] = []
        self._http: aiohttp.ClientSession | None = None
        self._started_at = time.monotonic()
        self._wall_minus_monotonic = time.time() - time.monotonic()

    # the truth

    def site_a(self) -> PhaseTriple:
        """The true per-phase current at the grid connection: building + every EV."""
        total = list(self.building.now_a())
        for charger_id, sim in self.chargers.items():
            draw = sim.draw_a(1)
            for own, site_phase in enumerate(self.stations[charger_id].site_phases):
                total[site_phase] += draw[own]
        return (total[0], total[1], total[2])

    def circuit_a(self) -> dict[str, PhaseTriple]:
        loads = {name: [0.0, 0.0, 0.0] for name, _ in self.spec.circuits}
        for charger_id, sim in self.chargers.items():
            station = self.stations[charger_id]
            if station.circuit is None:
                continue
            draw = sim.draw_a(1)
            for own, site_phase in enumerate(station.site_phases):
                loads[station.circuit][site_phase] += draw[own]
        return {name: (v[0], v[1], v[2]) for name, v in loads.items()}

    def now_s(self) -> float:
        """Seconds from the fault (before it: negative, counted from the rig's start)."""
        reference = self.fault_at if self.fault_at is not None else self._started_at
        return time.monotonic() - reference

    # lifecycle

    async def start(self) -> None:
        await self.meter.start()
        ocpp_port = free_port()
        text = config_text(self.spec, self.row, self.meter.port, ocpp_port)
        (self.workdir / "site.toml").write_text(text, encoding="utf-8")
        await self.controller.start()
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S))
        self._tasks = [
            asyncio.create_task(self._sample(), name="sample"),
            asyncio.create_task(self._poll(), name="poll"),
        ]
        await asyncio.gather(*(self.boot(s.charger_id) for s in self.row.stations if s.boots))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        with contextlib.suppress(Exception):
            await asyncio.gather(*(c.stop(timeout_s=2.0) for c in self.chargers.values()))
        await self.controller.stop()
        if self._http is not None:
            await self._http.close()
            self._http = None
        await self.meter.stop()

    async def __aenter__(self) -> FaultRig:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # what actions do

    async def boot(self, charger_id: str) -> None:
        station = self.stations[charger_id]
        port = self.controller.ocpp_port
        behaviour = ChargerBehaviour(
            reaction_s=self.spec.ev_reaction_s,
            ignore_profiles=station.ignore_profiles,
            reject_profiles=station.reject_profiles,
            reconnect_delay_s=station.reconnect_delay_s,
        )
        config = SimChargerConfig(
            charger_id,
            station.protocol,
            max_current_a=station.max_current_a,
            number_phases=1 if station.one_phase else 3,
            meter_interval_s=self.spec.charger_meter_s,
            heartbeat_interval_s=3600,
            behaviour=behaviour,
        )
        sim = SimulatedCharger(config, f"ws://127.0.0.1:{port}/ocpp")
        self.chargers[charger_id] = sim
        await sim.start(timeout_s=BOOT_TIMEOUT_S)

    async def plug_in(self, charger_id: str) -> None:
        station = self.stations[charger_id]
        sim = self.chargers[charger_id]
        if sim.connectors[1].ev is not None:
            return
        ev = SimulatedEV(
            max_current_a=station.ev_max_a,
            charger_phases=(1,) if station.one_phase else (1, 2, 3),
        )
        self.evs[charger_id] = ev
        async with asyncio.timeout(PLUG_TIMEOUT_S):
            await sim.booted.wait()
            tx = await sim.plug_in(1, ev)
        if tx is None:
            self.result.notes.append(f"{charger_id}: the controller refused the EV's token")

    async def unplug(self, charger_id: str) -> None:
        async with asyncio.timeout(PLUG_TIMEOUT_S):
            await self.chargers[charger_id].unplug(1)
        self.evs.pop(charger_id, None)

    # the run

    async def run(self, seconds: float | None = None) -> RowResult:
        seconds = self.row.seconds if seconds is None else seconds
        self.result.seconds = seconds
        if not await self._defaults_installed():
            self.result.notes.append(
                f"a charger had no default profile of the controller after {DEFAULTS_TIMEOUT_S:g} s"
            )
        early = [s for s in self.row.stations if s.plugs and s.early]
        for station in early:
            await self.plug_in(station.charger_id)
        if early:
            await asyncio.sleep(self.spec.early_wait_s)
        for station in self.row.stations:
            if station.plugs and not station.early:
                await self.plug_in(station.charger_id)
        self.result.settled = await self._settle()
        if not self.result.settled:
            self.result.notes.append(
                f"not settled within {self.spec.settle_timeout_s:g} s "
                "(a session without a TX profile, or not in normal mode)"
            )
        for _ in range(int((self.spec.lag_s + 2.0) / 0.1)):  # a lagging meter has a past
            if self.meter.history_s() > self.spec.lag_s + 0.5:
                break
            await asyncio.sleep(0.1)
        self.fault_at = self.result.fault_at = time.monotonic()
        for action in sorted(self.row.actions, key=lambda a: a.at_s):
            delay = self.fault_at + action.at_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                await action.act(self)
            except Exception as error:  # the row goes on; the note says what failed
                self.result.notes.append(
                    f"{action.label} failed at {self.now_s():+.1f} s: {error!r}"
                )
        remaining = self.fault_at + seconds - time.monotonic()
        if remaining > 0:
            await asyncio.sleep(remaining)
        return self._finish()

    async def _defaults_installed(self) -> bool:
        """Until every charger that takes profiles holds the controller's default profile:
        the site has run with the controller before, so an EV plugging in before the fault
        finds its charger's default in force, as it would on a site (a charger keeps a
        TxDefault across reboots). Bounded by `DEFAULTS_TIMEOUT_S`."""
        deadline = time.monotonic() + DEFAULTS_TIMEOUT_S
        while time.monotonic() < deadline:
            if all(
                any(p.purpose is ProfilePurpose.TX_DEFAULT for p in sim.store.profiles)
                for charger_id, sim in self.chargers.items()
                if not self.stations[charger_id].reject_profiles
            ):
                return True
            await asyncio.sleep(0.1)
        return False

    async def _settle(self) -> bool:
        """Until every compliant session has a TX profile of the controller in normal mode
        and the limits have stopped moving (see `settle_still_s`); then `settle_hold_s`
        more. Bounded by `settle_timeout_s`."""
        deadline = time.monotonic() + self.spec.settle_timeout_s
        still_since, previous = time.monotonic(), None
        while time.monotonic() < deadline:
            limits = self._session_limits()
            if limits != previous:
                still_since, previous = time.monotonic(), limits
            if limits is not None:
                drawing = [
                    limit > 0 and any(self.chargers[c].draw_a(1)) for c, limit in limits.items()
                ]
                still_s = time.monotonic() - still_since
                needed_s = self.spec.settle_still_s * (
                    0.5 if all(drawing) else 1.0 if any(drawing) else 2.0
                )
                if still_s >= needed_s:
                    await asyncio.sleep(self.spec.settle_hold_s)
                    return True
            await asyncio.sleep(0.2)
        return False

    def _session_limits(self) -> dict[str, float] | None:
        """The limit in force on each compliant session, once each has a TX profile and
        the controller is in normal mode; else None."""
        last = self.result.observations[-1] if self.result.observations else None
        if last is None or last.mode != "normal":
            return None
        limits: dict[str, float] = {}
        for charger_id, sim in self.chargers.items():
            station = self.stations[charger_id]
            if station.ignore_profiles or station.reject_profiles or charger_id not in self.evs:
                continue
            if not any(p.purpose.name == "TX" for p in sim.store.profiles):
                return None
            limits[charger_id] = round(sim.limit_a(1) or 0.0, 1)
        return limits

    def _finish(self) -> RowResult:
        result = self.result
        downs = [o for o in result.observations if not o.up]
        if downs:
            errors = sorted({o.error or "controller not running" for o in downs})
            result.notes.append(
                f"status API gave no answer for {len(downs) * POLL_S:.1f} s: {', '.join(errors)}"
            )
        ttu = result.time_to_unhealthy_s
        if ttu is not None:
            result.notes.append(f"/api/health 503 from {ttu:.1f} s")
        reasons: dict[str, tuple[float, str]] = {}
        for o in result.observations:
            if result.at(o.t) >= 0 and o.up and o.reason:
                key = re.sub(r"[0-9.]+", "#", o.reason)
                reasons.setdefault(key, (result.at(o.t), o.reason))
        result.notes += [
            f"meter reason from {t:+.1f} s: {reason[:140]}" for t, reason in reasons.values()
        ][:4]
        last = next((o for o in reversed(result.observations) if o.up), None)
        if last is not None and last.base_load_a is not None:
            believed = "/".join("?" if v is None else f"{v:.1f}" for v in last.base_load_a)
            truth = "/".join(f"{v:.1f}" for v in self.building.now_a())
            result.notes.append(
                f"at the end: controller's base load {believed} A, true building {truth} A, "
                f"mode {last.mode}"
            )
        result.log_excerpt = self.controller.log_excerpt()
        first = result.first_over
        after = next((s for s in result.samples if s.over and result.at(s.t) >= 0), None)
        moments = [("first over", first)]
        if after is not first:
            moments.append(("first over after the fault", after))
        for label, sample in moments:
            if sample is None:
                continue
            before_s, after_s = AROUND_OVER_S
            moment = datetime.fromtimestamp(sample.t + self._wall_minus_monotonic)
            quoted = self.controller.lines_between(
                moment - timedelta(seconds=before_s), moment + timedelta(seconds=after_s)
            )
            stamp = moment.strftime("%H:%M:%S.%f")[:-3]
            result.around_over.append(
                f"log {before_s:g} s before to {after_s:g} s after the {label} ({stamp}):"
            )
            result.around_over += [f"> {line[:220]}" for line in quoted] or ["> (nothing)"]
        return result

    async def _sample(self) -> None:
        limits = self.spec.circuit_limits
        tolerance = self.spec.tolerance_a
        for _ in range(int(3600 / SAMPLE_S)):
            site = self.site_a()
            over = [
                (f"site {name}", a, self.spec.limit_a)
                for name, a in zip(PHASE_NAMES, site, strict=True)
                if a > self.spec.limit_a + tolerance
            ]
            for circuit, load in self.circuit_a().items():
                over += [
                    (f"{circuit} {name}", a, limits[circuit])
                    for name, a in zip(PHASE_NAMES, load, strict=True)
                    if a > limits[circuit] + tolerance
                ]
            self.meter.record()
            self.result.samples.append(Sample(time.monotonic(), site, tuple(over)))
            await asyncio.sleep(SAMPLE_S)

    async def _poll(self) -> None:
        for _ in range(int(3600 / POLL_S)):
            began = time.monotonic()
            self.result.observations.append(await self._observe())
            await asyncio.sleep(max(POLL_S - (time.monotonic() - began), 0.01))

    async def _observe(self) -> Observation:
        port, session, at_s = self.controller.http_port, self._http, time.monotonic()
        if port is None or session is None:
            return Observation(at_s, up=False)
        base = f"http://127.0.0.1:{port}"
        try:
            async with session.get(f"{base}/api/status") as response:
                if response.status != 200:
                    return Observation(at_s, up=False, error=f"HTTP {response.status}")
                status = await response.json()
            async with session.get(f"{base}/api/health") as response:
                healthy = response.status == 200
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            return Observation(at_s, up=False, error=type(error).__name__)
        site = status.get("site", {})
        base_load = site.get("base_load_a") or {}
        return Observation(
            at_s,
            up=True,
            mode=site.get("mode"),
            healthy=healthy,
            reason=(site.get("meter") or {}).get("reason"),
            base_load_a=tuple(base_load.get(p) for p in PHASE_NAMES),
        )


async def run_row(
    row: FaultRow, workdir: Path, seconds: float | None = None, spec: SiteSpec | None = None
) -> RowResult:
    """Run one row in `workdir`, which must exist (config, store and controller logs go
    there)."""
    async with FaultRig(row, workdir, spec) as rig:
        result = await rig.run(seconds)
    result.write(workdir)
    return result
