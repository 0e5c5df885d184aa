"""Central-system scale benchmark: N chargers on 127.0.0.1 against three servers.

    .venv/bin/python -m benchmarks.csms            # N = 100, 1000, 2000
    .venv/bin/python -m benchmarks.csms --quick    # N = 100, 500

Servers, each in its own process (measured through /proc: CPU seconds, peak RSS):
  echo  a bare `websockets` server echoing every frame (the transport floor);
  bare  a bare `ocpp` 1.6 ChargePoint answering Boot/Status/Heartbeat/MeterValues with
        schema validation inline (the library floor);
  full  the product's CentralSystem (validation on, SQLite store writing), when importable.

Clients are lightweight raw-WebSocket OCPP 1.6 chargers in this process (not full
simulators), so the client side stays cheap. For each server and N: a boot storm (all
connect, boot and report status at once: time to absorb, refused count), then a bounded
load phase where every charger alternates Heartbeat and MeterValues on an accelerated
cadence, one call in flight per charger. Reported: calls/s, latency p50/p99, server CPU
seconds, calls per server-core-second, peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "ocpp"
SUBPROTOCOL = "ocpp1.6"
SERVER_READY_TIMEOUT_S = 30.0
SERVER_STOP_TIMEOUT_S = 10.0
BOOT_STORM_TIMEOUT_S = 60.0
CALL_TIMEOUT_S = 30.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- servers (run with --serve KIND in a child process) ---------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


async def _serve_forever(handler: Callable[[ServerConnection], Awaitable[None]], port: int) -> None:
    """Serve `handler` on 127.0.0.1:`port` the way a busy central system would, until cancelled."""
    async with serve(
        handler,
        "127.0.0.1",
        port,
        subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
        compression=None,
        ping_interval=None,
        backlog=4096,
    ):
        _ready(port)
        await asyncio.Future()


async def _serve_echo(port: int) -> None:
    async def echo(ws: ServerConnection) -> None:
        async for frame in ws:
            await ws.send(frame)

    await _serve_forever(echo, port)


async def _serve_bare(port: int) -> None:
    import ocpp.messages
    from ocpp.v16 import ChargePoint, call_result

    from adapters.ocpp.sim.routing import on

    ocpp.messages.ASYNC_VALIDATION = False

    class Station(ChargePoint):  # type: ignore[misc]
        @on("BootNotification")
        def boot(self, **_: Any) -> call_result.BootNotification:
            return call_result.BootNotification(
                current_time=_now(), interval=300, status="Accepted"
            )

        @on("StatusNotification")
        def status(self, **_: Any) -> call_result.StatusNotification:
            return call_result.StatusNotification()

        @on("Heartbeat")
        def heartbeat(self, **_: Any) -> call_result.Heartbeat:
            return call_result.Heartbeat(current_time=_now())

        @on("MeterValues")
        def meter_values(self, **_: Any) -> call_result.MeterValues:
            return call_result.MeterValues()

    async def handle(ws: ServerConnection) -> None:
        assert ws.request is not None
        station = Station(ws.request.path.rsplit("/", 1)[-1], ws)
        try:
            await station.start()
        except Exception:  # a closed connection ends the station
            return

    await _serve_forever(handle, port)


def _full_system() -> Any:
    """The product's CentralSystem class, or None while it is not importable."""
    try:
        from adapters.ocpp import CentralSystem
    except ImportError:
        return None
    return CentralSystem


async def _serve_full(port: int) -> None:
    from adapters.ocpp.config import OcppSettings
    from adapters.storage.sqlite import SqliteStore

    central_system = _full_system()
    settings = OcppSettings(
        host="127.0.0.1",
        port=port,
        path_prefix=PREFIX,
        unknown_chargers="accept",
        ping_interval_s=None,
    )
    with tempfile.TemporaryDirectory(prefix="csms-bench-") as tmp:
        store = SqliteStore(Path(tmp) / "bench.sqlite")
        system = central_system(settings=settings, store=store, on_event=lambda _event: None)
        await system.start()
        _ready(port)
        try:
            await asyncio.Future()
        finally:
            await system.stop()
            store.close()


def _ready(port: int) -> None:
    print(f"READY {port}", flush=True)


def serve_main(kind: str, port: int) -> None:
    servers = {"echo": _serve_echo, "bare": _serve_bare, "full": _serve_full}
    loop = asyncio.new_event_loop()
    main = loop.create_task(servers[kind](port))
    loop.add_signal_handler(signal.SIGTERM, main.cancel)
    try:
        loop.run_until_complete(main)
    except asyncio.CancelledError:
        pass
    finally:
        loop.close()


# --- the server process, measured through /proc -----------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServerProcess:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.csms",
                "--serve",
                kind,
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )

    async def ready(self) -> None:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(
            asyncio.to_thread(self.proc.stdout.readline), SERVER_READY_TIMEOUT_S
        )
        if not line.startswith("READY"):
            raise RuntimeError(f"{self.kind} server did not start (exit {self.proc.poll()})")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        utime, stime = int(fields[11]), int(fields[12])
        return (utime + stime) / CLK_TCK

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(SERVER_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(SERVER_STOP_TIMEOUT_S)


# --- lightweight clients ----------------------------------------------------------------

_ids = itertools.count()


def _meter_values() -> dict[str, Any]:
    sampled = [
        {"value": "16.0", "measurand": "Current.Import", "phase": p, "unit": "A"}
        for p in ("L1", "L2", "L3")
    ]
    sampled += [
        {"value": "11040", "measurand": "Power.Active.Import", "unit": "W"},
        {"value": "123456", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
    ]
    return {"connectorId": 1, "meterValue": [{"timestamp": _now(), "sampledValue": sampled}]}


class Client:
    """A raw OCPP 1.6 charger: one call in flight; server CALLs answered NotImplemented."""

    def __init__(self, charger_id: str, url: str) -> None:
        self.charger_id = charger_id
        self.url = f"{url}/{charger_id}"
        self.ws: ClientConnection | None = None

    async def call(self, action: str, payload: dict[str, Any]) -> Any:
        assert self.ws is not None
        uid = f"{next(_ids)}"
        await self.ws.send(json.dumps([2, uid, action, payload]))
        async with asyncio.timeout(CALL_TIMEOUT_S):
            while True:
                frame = json.loads(await self.ws.recv())
                if frame[1] == uid:
                    if frame[0] == 4:
                        raise RuntimeError(f"{action}: CALLERROR {frame[2]}")
                    return frame[2] if frame[0] == 3 else None
                if frame[0] == 2:
                    await self.ws.send(json.dumps([4, frame[1], "NotImplemented", "", {}]))

    async def boot(self) -> bool:
        self.ws = await connect(
            self.url,
            subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
            compression=None,
            ping_interval=None,
            open_timeout=BOOT_STORM_TIMEOUT_S,
        )
        answer = await self.call(
            "BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "Raw"}
        )
        if answer is not None and answer.get("status") != "Accepted":
            return False
        await self.call(
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": _now()},
        )
        return True

    async def load(self, interval_s: float, until: float, latencies: list[float]) -> None:
        """Alternate MeterValues and Heartbeat every `interval_s` (0: back to back)."""
        next_at = time.monotonic() + random.uniform(0, interval_s)
        for n in itertools.count():
            if max(next_at, time.monotonic()) >= until:
                return
            delay = next_at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            action, payload = ("Heartbeat", {}) if n % 2 else ("MeterValues", _meter_values())
            begin = time.perf_counter()
            await self.call(action, payload)
            latencies.append(time.perf_counter() - begin)
            next_at += interval_s

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


# --- a run ------------------------------------------------------------------------------


@dataclass
class Result:
    kind: str
    chargers: int
    storm_s: float = float("nan")
    refused: int = 0
    calls: int = 0
    calls_per_s: float = 0.0
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    cpu_s: float = float("nan")
    client_cpu_s: float = float("nan")
    sat_calls_per_s: float = 0.0
    sat_per_core_s: float = float("nan")
    peak_rss_mb: float = float("nan")
    errors: list[str] = field(default_factory=list)

    @property
    def per_core_s(self) -> float:
        return self.calls / self.cpu_s if self.cpu_s > 0 else float("nan")


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


async def _phase(
    server: ServerProcess, clients: list[Client], interval_s: float, duration_s: float
) -> tuple[list[float], float, float, float, list[str]]:
    """Every client loads the server for `duration_s`: latencies, server CPU s, wall s,
    client CPU s (this process: a busy client side inflates latency), distinct errors."""
    latencies: list[float] = []
    cpu_before, client_before = server.cpu_s(), time.process_time()
    begin = time.monotonic()
    outcomes = await asyncio.gather(
        *(c.load(interval_s, begin + duration_s, latencies) for c in clients),
        return_exceptions=True,
    )
    elapsed = time.monotonic() - begin
    errors = sorted({repr(e)[:120] for e in outcomes if e is not None})[:3]
    client_cpu_s = time.process_time() - client_before
    return latencies, server.cpu_s() - cpu_before, elapsed, client_cpu_s, errors


async def run(
    kind: str, chargers: int, load_s: float, interval_s: float, saturate_s: float
) -> Result:
    result = Result(kind, chargers)
    server = ServerProcess(kind)
    clients = [
        Client(f"BENCH{i:05d}", f"ws://127.0.0.1:{server.port}/{PREFIX}") for i in range(chargers)
    ]
    try:
        await server.ready()
        begin = time.monotonic()
        booted = await asyncio.gather(
            *(asyncio.wait_for(c.boot(), BOOT_STORM_TIMEOUT_S) for c in clients),
            return_exceptions=True,
        )
        result.storm_s = time.monotonic() - begin
        live = [c for c, ok in zip(clients, booted, strict=True) if ok is True]
        result.refused = chargers - len(live)
        result.errors += sorted({repr(b)[:120] for b in booted if b is not True})[:3]

        latencies, result.cpu_s, elapsed, result.client_cpu_s, errors = await _phase(
            server, live, interval_s, load_s
        )
        result.errors += errors
        result.calls = len(latencies)
        result.calls_per_s = result.calls / elapsed
        result.p50_ms = _percentile(latencies, 0.50) * 1000
        result.p99_ms = _percentile(latencies, 0.99) * 1000

        saturated, cpu_s, elapsed, _, errors = await _phase(server, live, 0.0, saturate_s)
        result.errors += errors
        result.sat_calls_per_s = len(saturated) / elapsed
        result.sat_per_core_s = len(saturated) / cpu_s if cpu_s > 0 else float("nan")
        result.peak_rss_mb = server.peak_rss_mb()
    except Exception as exc:
        result.errors.append(repr(exc)[:200])
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        server.stop()
    return result


def _raise_fd_limit(chargers: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * chargers + 256
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target < wanted:
            print(f"warning: open-file limit {target} < {wanted} needed", file=sys.stderr)


HEADER = (
    f"{'server':<6} {'N':>5} {'storm s':>8} {'refused':>7} {'calls':>7} {'calls/s':>8} "
    f"{'p50 ms':>7} {'p99 ms':>7} {'CPU s':>6} {'client CPU s':>12} {'calls/core-s':>12} "
    f"{'sat calls/s':>11} {'sat /core-s':>11} {'RSS MB':>7}"
)


def _row(r: Result) -> str:
    return (
        f"{r.kind:<6} {r.chargers:>5} {r.storm_s:>8.2f} {r.refused:>7} {r.calls:>7} "
        f"{r.calls_per_s:>8.0f} {r.p50_ms:>7.1f} {r.p99_ms:>7.1f} {r.cpu_s:>6.2f} "
        f"{r.client_cpu_s:>12.2f} "
        f"{r.per_core_s:>12.0f} {r.sat_calls_per_s:>11.0f} {r.sat_per_core_s:>11.0f} "
        f"{r.peak_rss_mb:>7.1f}"
    )


def _verdicts(results: list[Result]) -> list[str]:
    def best(kind: str) -> Result | None:
        rows = [r for r in results if r.kind == kind and r.calls]
        return max(rows, key=lambda r: r.chargers) if rows else None

    out = []
    echo, bare, full = best("echo"), best("bare"), best("full")
    if echo and bare:
        ratio = bare.sat_per_core_s / echo.sat_per_core_s
        out.append(f"bare ocpp / echo, saturated, per core: {ratio:.2f}")
    if full is None:
        out.append(
            "full central system: not available (adapters.ocpp.CentralSystem not importable)"
        )
        return out
    if bare:
        ratio = bare.sat_per_core_s / full.sat_per_core_s
        out.append(f"bare ocpp / full system, saturated, per core: {ratio:.2f}x (target <= 2.5x)")
    checks: list[tuple[str, Callable[[Result], bool]]] = [
        (">= 2000 calls per server-core-second (saturated)", lambda r: r.sat_per_core_s >= 2000),
        ("p99 < 100 ms", lambda r: r.p99_ms < 100),
        ("peak RSS < 500 MB", lambda r: r.peak_rss_mb < 500),
        ("boot storm < 10 s", lambda r: r.storm_s < 10),
        ("none refused", lambda r: r.refused == 0),
    ]
    for name, ok in checks:
        out.append(f"full N={full.chargers}: {name}: {'PASS' if ok(full) else 'FAIL'}")
    return out


async def bench(
    sizes: list[int], kinds: list[str], load_s: float, interval_s: float, saturate_s: float
) -> None:
    _raise_fd_limit(max(sizes))
    print(
        f"paced phase {load_s:.0f} s (one call per charger every {interval_s} s), "
        f"then {saturate_s:.0f} s saturated (back to back, one in flight per charger)"
    )
    print(HEADER)
    results = []
    for kind in kinds:
        if kind == "full" and _full_system() is None:
            print(f"{'full':<6} {'':>5} not available (adapters.ocpp.CentralSystem not importable)")
            continue
        for n in sizes:
            result = await run(kind, n, load_s, interval_s, saturate_s)
            results.append(result)
            print(_row(result), flush=True)
            for error in result.errors:
                print(f"       ! {error}")
    print()
    for line in _verdicts(results):
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 100, 500; shorter load phase")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--servers", default="echo,bare,full")
    parser.add_argument("--load-s", type=float)
    parser.add_argument("--interval-s", type=float, default=1.0, help="per-charger call interval")
    parser.add_argument("--saturate-s", type=float, help="length of the back-to-back phase")
    parser.add_argument("--serve", choices=["echo", "bare", "full"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_main(args.serve, args.port)
        return
    sizes = args.sizes or ([100, 500] if args.quick else [100, 1000, 2000])
    load_s = args.load_s or (5.0 if args.quick else 15.0)
    saturate_s = args.saturate_s or (3.0 if args.quick else 5.0)
    asyncio.run(bench(sizes, args.servers.split(","), load_s, args.interval_s, saturate_s))


if __name__ == "__main__":
    main()
