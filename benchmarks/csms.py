"""Central-system scale benchmark: N chargers × 2 connectors on 127.0.0.1, sending what
chargers really send, against three servers.

    .venv/bin/python -m benchmarks.csms                # N = 200, 1000, 2000
    .venv/bin/python -m benchmarks.csms --quick        # N = 100, 300; shorter
    .venv/bin/python -m benchmarks.csms --sizes 1000 --servers full --meter-interval-s 5

Servers, each in its own process (measured through /proc: CPU seconds, peak RSS):
  echo  a bare `websockets` server echoing every frame (the transport floor);
  bare  a bare `ocpp` 1.6 ChargePoint answering the same actions with schema validation
        inline and nothing behind it (the library floor);
  full  the product: `SiteRuntime` on a generated site of N chargers (the central system,
        the SQLite store, the controller and its control step), as `ems run` runs it.

Clients (`benchmarks.csms_mix`) are lightweight raw-WebSocket OCPP 1.6 chargers in this
process: a boot storm (all connect, boot and report status at once), then for `--load-s`
EVs arrive on every connector, authorize, start, send MeterValues with five measurands every
`--meter-interval-s`, stop and leave, one call in flight per charger. Reported per server
and N: the latency p50/p95/p99 of each action, the time from StartTransaction to the first
TxProfile (full only), timeouts, server CPU seconds and peak RSS, and the client's CPU
(a busy client inflates latency).
"""

from __future__ import annotations

import argparse
import asyncio
import os
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

from websockets.asyncio.server import ServerConnection, serve

from benchmarks.csms_mix import CONNECTORS, Mix, MixCharger, Stats
from benchmarks.peer_latency import children, cpu_s, peak_rss_mb, percentile

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "ocpp"
SUBPROTOCOL = "ocpp1.6"
SERVER_READY_TIMEOUT_S = 60.0
SERVER_STOP_TIMEOUT_S = 10.0
BOOT_STORM_TIMEOUT_S = 120.0
SETTLE_S = 10.0
"""After the load phase: time for the last calls to be answered before the server stops."""
LIMIT_A_PER_CONNECTOR = 16.0
"""The generated site's fuse: every connector's minimum and half its maximum fit, so that
what is measured is latency, not scarcity (a scarce site holds new sessions back)."""
ACTIONS = (
    "BootNotification",
    "StatusNotification",
    "Authorize",
    "StartTransaction",
    "MeterValues",
    "StopTransaction",
)


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


async def _serve_echo(port: int, chargers: int) -> None:
    async def echo(ws: ServerConnection) -> None:
        async for frame in ws:
            await ws.send(frame)

    await _serve_forever(echo, port)


async def _serve_bare(port: int, chargers: int) -> None:
    import ocpp.messages
    from ocpp.v16 import ChargePoint, call_result

    from adapters.ocpp.sim.routing import on

    ocpp.messages.ASYNC_VALIDATION = False
    transaction_ids = iter(range(1, 2**31))

    class Station(ChargePoint):  # type: ignore[misc]
        @on("BootNotification")
        def on_boot(self, **_: Any) -> call_result.BootNotification:
            return call_result.BootNotification(
                current_time=_now(), interval=300, status="Accepted"
            )

        @on("StatusNotification")
        def on_status(self, **_: Any) -> call_result.StatusNotification:
            return call_result.StatusNotification()

        @on("Heartbeat")
        def on_heartbeat(self, **_: Any) -> call_result.Heartbeat:
            return call_result.Heartbeat(current_time=_now())

        @on("Authorize")
        def on_authorize(self, **_: Any) -> call_result.Authorize:
            return call_result.Authorize(id_tag_info={"status": "Accepted"})

        @on("StartTransaction")
        def on_start(self, **_: Any) -> call_result.StartTransaction:
            return call_result.StartTransaction(
                transaction_id=next(transaction_ids), id_tag_info={"status": "Accepted"}
            )

        @on("StopTransaction")
        def on_stop(self, **_: Any) -> call_result.StopTransaction:
            return call_result.StopTransaction()

        @on("MeterValues")
        def on_meter_values(self, **_: Any) -> call_result.MeterValues:
            return call_result.MeterValues()

    async def handle(ws: ServerConnection) -> None:
        assert ws.request is not None
        station = Station(ws.request.path.rsplit("/", 1)[-1], ws)
        try:
            await station.start()
        except Exception:  # a closed connection ends the station
            return

    await _serve_forever(handle, port)


async def _serve_full(port: int, chargers: int) -> None:
    """The product as `ems run` runs it (without the status page), on a generated site."""
    from adapters.files.app_config import load_app_config
    from adapters.runtime import SiteRuntime
    from benchmarks.peer import Run, config_text

    with tempfile.TemporaryDirectory(prefix="csms-bench-") as tmp:
        config_path = Path(tmp) / "site.toml"
        limit_a = LIMIT_A_PER_CONNECTOR * chargers * CONNECTORS
        config_path.write_text(config_text(Run("1.6", chargers, CONNECTORS, 0, limit_a), port))
        runtime = SiteRuntime(load_app_config(config_path), http=False)
        await runtime.start()
        _ready(port)
        try:
            await asyncio.Future()
        finally:
            await runtime.stop()


def _ready(port: int) -> None:
    print(f"READY {port}", flush=True)


SERVERS = {"echo": _serve_echo, "bare": _serve_bare, "full": _serve_full}


def serve_main(kind: str, port: int, chargers: int) -> None:
    loop = asyncio.new_event_loop()
    main = loop.create_task(SERVERS[kind](port, chargers))
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
    def __init__(self, kind: str, chargers: int) -> None:
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
                "--sizes",
                str(chargers),
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
        """This server's CPU seconds, its worker's (the controller's process) included."""
        return sum(cpu_s(pid) for pid in [self.proc.pid, *children(self.proc.pid)])

    def peak_rss_mb(self) -> float:
        return sum(peak_rss_mb(pid) for pid in [self.proc.pid, *children(self.proc.pid)])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(SERVER_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(SERVER_STOP_TIMEOUT_S)


# --- a run ------------------------------------------------------------------------------


@dataclass
class Result:
    kind: str
    chargers: int
    storm_s: float = float("nan")
    refused: int = 0
    stats: Stats = field(default_factory=Stats)
    load_s: float = float("nan")
    cpu_s: float = float("nan")
    client_cpu_s: float = float("nan")
    peak_rss_mb: float = float("nan")
    errors: list[str] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return sum(len(v) for v in self.stats.latencies_s.values())

    def p_ms(self, action: str, q: float) -> float:
        return percentile(self.stats.latencies_s.get(action, []), q) * 1000

    def worst_p99_ms(self) -> float:
        return max((self.p_ms(a, 0.99) for a in self.stats.latencies_s), default=float("nan"))


async def run(kind: str, chargers: int, load_s: float, mix: Mix) -> Result:
    result = Result(kind, chargers)
    server = ServerProcess(kind, chargers)
    url = f"ws://127.0.0.1:{server.port}/{PREFIX}"
    clients = [
        MixCharger(f"SIM{i:04d}", url, mix, result.stats, seed=i) for i in range(1, chargers + 1)
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
        result.stats.latencies_s.clear()  # the storm is reported as its duration only

        cpu_before, client_before = server.cpu_s(), time.process_time()
        begin = time.monotonic()
        outcomes = await asyncio.wait_for(
            asyncio.gather(*(c.run(begin + load_s) for c in live), return_exceptions=True),
            load_s + mix.stay_s[1] + SETTLE_S,
        )
        result.load_s = time.monotonic() - begin
        result.cpu_s = server.cpu_s() - cpu_before
        result.client_cpu_s = time.process_time() - client_before
        result.errors += sorted({repr(e)[:120] for e in outcomes if e is not None})[:3]
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


def _table(r: Result) -> list[str]:
    lines = [
        f"{r.kind} N={r.chargers}x{CONNECTORS}: boot storm {r.storm_s:.1f} s, refused "
        f"{r.refused}, {r.calls} calls in {r.load_s:.0f} s ({r.calls / r.load_s:.0f}/s), "
        f"timeouts {r.stats.timeouts}, server CPU {r.cpu_s:.1f} s, client CPU "
        f"{r.client_cpu_s:.1f} s, peak RSS {r.peak_rss_mb:.0f} MB",
        f"  {'action':<22} {'calls':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}",
    ]
    for action in ACTIONS:
        values = r.stats.latencies_s.get(action, [])
        if values:
            lines.append(
                f"  {action:<22} {len(values):>6} {r.p_ms(action, 0.5):>7.1f} "
                f"{r.p_ms(action, 0.95):>7.1f} {r.p_ms(action, 0.99):>7.1f}"
            )
    delays = [d * 1000 for d in r.stats.tx_profile_delays_s]
    if delays:
        lines.append(
            f"  {'start -> 1st TxProfile':<22} {len(delays):>6} {percentile(delays, 0.5):>7.0f} "
            f"{percentile(delays, 0.95):>7.0f} {percentile(delays, 0.99):>7.0f}"
        )
    lines += [f"  CALLERROR {name}: {count}" for name, count in sorted(r.stats.errors.items())]
    lines += [f"  ! {error}" for error in r.errors]
    return lines


def _verdicts(results: list[Result]) -> list[str]:
    out = []
    for r in results:
        if r.kind != "full" or not r.calls:
            continue
        p99 = r.worst_p99_ms()
        delays = [d * 1000 for d in r.stats.tx_profile_delays_s]
        tx_p95 = percentile(delays, 0.95) if delays else float("nan")
        checks = [
            (f"every action p99 < 100 ms (worst {p99:.0f})", p99 < 100),
            (f"1st TxProfile p95 < 1 s ({tx_p95:.0f} ms)", tx_p95 < 1000),
            (f"RSS < 500 MB ({r.peak_rss_mb:.0f})", r.peak_rss_mb < 500),
            (
                f"no timeouts, none refused ({r.stats.timeouts}, {r.refused})",
                r.stats.timeouts == 0 and r.refused == 0,
            ),
        ]
        for name, ok in checks:
            out.append(f"full N={r.chargers}: {name}: {'PASS' if ok else 'FAIL'}")
    return out


async def bench(sizes: list[int], kinds: list[str], load_s: float, mix: Mix) -> None:
    _raise_fd_limit(max(sizes))
    print(
        f"{load_s:.0f} s of EVs per size; MeterValues every {mix.meter_interval_s:g} s, "
        f"stays {mix.stay_s[0]:g}-{mix.stay_s[1]:g} s, gaps {mix.gap_s[0]:g}-{mix.gap_s[1]:g} s"
    )
    results = []
    for n in sizes:
        for kind in kinds:
            result = await run(kind, n, load_s, mix)
            results.append(result)
            print("\n".join(_table(result)), flush=True)
    print()
    for line in _verdicts(results):
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 100, 300; shorter load phase")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--servers", default="echo,bare,full")
    parser.add_argument("--load-s", type=float)
    parser.add_argument("--meter-interval-s", type=float, default=10.0)
    parser.add_argument("--serve", choices=sorted(SERVERS), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_main(args.serve, args.port, args.sizes[0])
        return
    sizes = args.sizes or ([100, 300] if args.quick else [200, 1000, 2000])
    load_s = args.load_s or (20.0 if args.quick else 60.0)
    mix = Mix(meter_interval_s=args.meter_interval_s)
    asyncio.run(bench(sizes, args.servers.split(","), load_s, mix))


if __name__ == "__main__":
    main()
