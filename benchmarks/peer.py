"""Conformance against a charge point nobody here wrote: the real `ems run` as the central
system of `ocpp-peer` (Node.js, `ocpp-rpc`, strict validation against the official OCPP
JSON schemas both ways), for OCPP 1.6 and 2.0.1, with `--strict-exit` and the site limit.

    python -m benchmarks.peer --peer ../shared/ocpp-peer --duration 60
    python -m benchmarks.peer --peer ../shared/ocpp-peer --versions 1.6 --chargers 1000 \
        --duration 120 --latency        # the scale run: latency table, CPU, RSS

The peer folder is copied to a temporary folder and `npm ci` installs it there (the shared
folder stays read-only). Exit 0 when every version ran clean; otherwise the exit code of
the first failing run, with its summary and the controller's log excerpt printed. `.ci/run`
calls it when the peer folder exists.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.fault_rig.process import ControllerProcess
from benchmarks.peer_floor import floor_server
from benchmarks.peer_latency import (
    ServerUsage,
    last_boot_s,
    latency_table,
    steady_table,
    tx_profile_delays,
)

VOLTAGE_V = 230.0
LIMIT_A = 63.0
WORST_BASE_A = 10.0
"""The worst base load the site configures, per phase: the EVs may use the rest."""
INSTALL_TIMEOUT_S = 300.0
EXTRA_S = 120.0
"""Time the peer may take beyond `--duration` (drain, final probe); it stops itself 60 s
after its drain at the latest."""
HUNG = 3
"""The exit code reported when the peer outlived its time (the peer's own for that)."""


@dataclass(frozen=True)
class Run:
    version: str
    chargers: int
    connectors: int
    duration_s: int
    limit_a: float = LIMIT_A
    meter_interval_s: int = 5
    latency: bool = False
    """Also trace every frame (for the time to the first TxProfile) and measure the
    controller's CPU and RSS."""


def config_text(run: Run, port: int) -> str:
    """A site of `run.chargers` configured three-phase chargers and no meter (so the
    controller plans with the worst configured base load: conservative, as a site
    without a meter would)."""
    lines = [
        "[site]",
        f'name = "ocpp-peer {run.version}"',
        f"limit_a = {run.limit_a}",
        f"worst_base_load_a = {WORST_BASE_A}",
        "",
    ]
    for number in range(1, run.chargers + 1):
        lines += ["[[chargers]]", f'id = "SIM{number:04d}"']
        for connector in range(1, run.connectors + 1):
            lines += [
                "  [[chargers.connectors]]",
                f"  connector_id = {connector}",
                '  phases = "L1L2L3"',
                "  max_current_a = 32",
            ]
        lines.append("")
    lines += [
        "[ocpp]",
        'host = "127.0.0.1"',
        f"port = {port}",
        'unknown_tokens = "accept"',
        "",
        "[http]",
        'host = "127.0.0.1"',
        "port = 0",
        "",
        "[store]",
        'path = "site.sqlite"',
    ]
    return "\n".join(lines) + "\n"


def install_peer(source: Path, into: Path) -> Path:
    """A copy of the peer with its locked dependencies installed."""
    target = into / "ocpp-peer"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("node_modules"))
    subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=target,
        check=True,
        timeout=INSTALL_TIMEOUT_S,
    )
    return target


def peer_command(run: Run, peer: Path, ocpp_port: int, report: Path, *extra: str) -> list[str]:
    """The peer's command line for `run` against the controller on `ocpp_port`, with the
    site limit checked: what `config_text`'s site leaves the EVs beside its worst base load."""
    site_limit_w = (run.limit_a - WORST_BASE_A) * 3 * VOLTAGE_V
    return [
        "node",
        str(peer / "peer.mjs"),
        f"--url=ws://127.0.0.1:{ocpp_port}/ocpp",
        f"--version={run.version}",
        f"--chargers={run.chargers}",
        f"--connectors={run.connectors}",
        f"--duration={run.duration_s}",
        f"--meter-interval={run.meter_interval_s}",
        "--seed=1",
        f"--site-limit-w={site_limit_w:.0f}",
        f"--report={report}",
        "--quiet",
        *extra,
    ]


async def run_peer(
    run: Run, peer: Path, config: Path, report: Path, usage: ServerUsage | None = None
) -> int:
    """Run the controller on `config` and the peer against it once; the peer's exit code.
    With `usage`, the controller's CPU and peak RSS over the run are put there."""
    controller = ControllerProcess(config, config.parent)
    await controller.start()
    assert controller.ocpp_port is not None
    command = peer_command(run, peer, controller.ocpp_port, report, "--strict-exit")
    if run.latency:
        command.append(f"--trace={report.with_suffix('.trace.jsonl')}")
    if usage is not None and controller.proc is not None:
        usage.begin(controller.proc.pid)
    peer_proc = await asyncio.create_subprocess_exec(*command, cwd=peer)
    try:
        code = await asyncio.wait_for(peer_proc.wait(), run.duration_s + EXTRA_S)
    except TimeoutError:
        peer_proc.kill()
        await peer_proc.wait()
        code = HUNG
    finally:
        if usage is not None:
            usage.end()
        await controller.stop()
    if code != 0:
        print("\n".join(controller.log_excerpt(40)))
    return code


async def run_floor(run: Run, peer: Path, report: Path) -> int:
    """The peer once against `benchmarks.peer_floor`'s answer-only central system."""
    server = await floor_server()
    port = int(next(iter(server.sockets)).getsockname()[1])
    command = peer_command(run, peer, port, report, f"--trace={report.with_suffix('.trace.jsonl')}")
    peer_proc = await asyncio.create_subprocess_exec(*command, cwd=peer)
    try:
        return await asyncio.wait_for(peer_proc.wait(), run.duration_s + EXTRA_S)
    except TimeoutError:
        peer_proc.kill()
        await peer_proc.wait()
        return HUNG
    finally:
        server.close()
        await server.wait_closed()


def floor_one(run: Run, peer: Path, workdir: Path) -> None:
    """The floor of one version: the peer's latency table against an answer-only server."""
    workdir.mkdir(parents=True)
    report = workdir / "report.json"
    code = asyncio.run(run_floor(run, peer, report))
    document = json.loads(report.read_text()) if report.exists() else {}
    print(f"floor, OCPP {run.version}: the same peer against a server that only answers")
    print(latency_table(document) if code != HUNG else "(the peer hung)")
    print(steady_table(report.with_suffix(".trace.jsonl"), run.duration_s))


def run_one(run: Run, peer: Path, workdir: Path) -> tuple[int, dict[str, object]]:
    """One version: config, run, report."""
    workdir.mkdir(parents=True)
    config = workdir / "site.toml"
    config.write_text(config_text(run, 0))
    report = workdir / "report.json"
    usage = ServerUsage() if run.latency else None
    code = asyncio.run(run_peer(run, peer, config, report, usage))
    document = json.loads(report.read_text()) if report.exists() else {}
    if usage is not None:
        trace = report.with_suffix(".trace.jsonl")
        print(latency_table(document, tx_profile_delays(trace), last_boot_s(trace)))
        print(steady_table(trace, run.duration_s))
        print(usage.line())
    return code, document


def summary_line(run: Run, code: int, document: dict[str, object]) -> str:
    summary = document.get("summary", {})
    shown = json.dumps(summary, sort_keys=True) if summary else "(no report)"
    verdict = "ok" if code == 0 else f"FAILED (exit {code})"
    return f"OCPP {run.version}, {run.chargers} chargers: {verdict}\n  {shown}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", type=Path, required=True, help="the ocpp-peer folder")
    parser.add_argument("--versions", default="1.6,2.0.1", help="comma-separated")
    parser.add_argument("--chargers", type=int, default=10)
    parser.add_argument("--connectors", type=int, default=2)
    parser.add_argument("--duration", type=int, default=60, help="seconds per version")
    parser.add_argument("--limit-a", type=float, default=LIMIT_A, help="site limit per phase")
    parser.add_argument("--meter-interval", type=int, default=5, help="MeterValues cadence, s")
    parser.add_argument(
        "--latency",
        action="store_true",
        help="print the latency per action, the time to the first TxProfile, CPU and RSS",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="first run the peer against a server that only answers (benchmarks.peer_floor): "
        "what the machine and the peer cost by themselves",
    )
    parser.add_argument("--keep", type=Path, help="keep configs, stores, logs, reports here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ems-peer-") as scratch:
        root = args.keep or Path(scratch)
        peer = install_peer(args.peer.resolve(), Path(scratch))
        failed = 0
        for version in args.versions.split(","):
            run = Run(
                version,
                args.chargers,
                args.connectors,
                args.duration,
                args.limit_a,
                args.meter_interval,
                args.latency,
            )
            if args.floor:
                floor_one(run, peer, root / f"floor{version}")
            code, document = run_one(run, peer, root / f"ocpp{version}")
            print(summary_line(run, code, document), flush=True)
            failed = failed or code
        return failed


if __name__ == "__main__":
    sys.exit(main())
