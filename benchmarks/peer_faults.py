"""The restart and refusal cases against a charge point nobody here wrote (`ocpp-peer`,
strict schema validation both ways), with its site-limit compliance as the verdict.

    python -m benchmarks.peer_faults --peer ../shared/ocpp-peer
    python -m benchmarks.peer_faults --peer ../shared/ocpp-peer --cases restart --versions 2.0.1

Cases, each for OCPP 1.6 and 2.0.1:

- `restart`: the controller is killed (SIGKILL, no shutdown) a third into the run and
  started again on the same config and store `--down` seconds later, while the chargers
  keep charging on the profiles they hold and reconnect when they can;
- `refusal`: the chargers accept no profile above stack level 0 (their
  ChargeProfileMaxStackLevel), so a session profile rendered at level 1 is refused and
  must be retried in another rendering.

Per run: schema violations in what the controller sent, seconds the EVs' total power
was above the site limit and the worst overshoot (the peer's `compliance`), profiles
accepted and rejected, reconnects. Exit 1 when a run broke the site limit, drew a schema
violation, or could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.fault_rig.process import ControllerProcess, free_port
from benchmarks.peer import EXTRA_S, Run, config_text, install_peer, peer_command


@dataclass(frozen=True)
class Case:
    name: str
    peer_args: tuple[str, ...] = ()
    restart: bool = False


CASES = {
    "restart": Case("restart", ("--boot-on-reconnect",), restart=True),
    "refusal": Case("refusal", ("--max-stack-level=0",)),
}


@dataclass
class Outcome:
    case: str
    version: str
    code: int
    report: dict[str, Any]

    @property
    def over_s(self) -> float:
        return float(self.report.get("compliance", {}).get("secondsOverLimit", 0.0))

    @property
    def worst_w(self) -> float:
        return float(self.report.get("compliance", {}).get("maxOvershootW", 0.0))

    @property
    def violations(self) -> int:
        return int(self.report.get("schemaViolations", {}).get("count", 0))

    @property
    def ran(self) -> bool:
        return "compliance" in self.report

    @property
    def ok(self) -> bool:
        return self.ran and self.over_s == 0.0 and self.violations == 0

    def profiles(self) -> tuple[int, int]:
        sent = self.report.get("smartCharging", {}).get("setChargingProfile", {})
        return int(sent.get("accepted", 0)), int(sent.get("rejected", 0))

    def reconnects(self) -> int:
        return int(self.report.get("connections", {}).get("reconnects", 0))


def run_case(case: Case, run: Run, peer: Path, workdir: Path, down_s: float) -> Outcome:
    """One case for one version: config, run, report."""
    workdir.mkdir(parents=True)
    config = workdir / "site.toml"
    config.write_text(config_text(run, free_port()))
    report = workdir / "report.json"
    controller = ControllerProcess(config, workdir)
    code = asyncio.run(_drive(case, run, peer, controller, report, down_s))
    document = json.loads(report.read_text()) if report.exists() else {}
    outcome = Outcome(case.name, run.version, code, document)
    if not outcome.ok:
        print("\n".join(controller.log_excerpt(30)))
    return outcome


async def _drive(
    case: Case, run: Run, peer: Path, controller: ControllerProcess, report: Path, down_s: float
) -> int:
    """The controller on a fixed port (a restarted one must be found where it was) and the
    peer against it; the controller killed and restarted at a third of the run if asked.
    The peer's exit code."""
    await controller.start()
    assert controller.ocpp_port is not None
    command = peer_command(run, peer, controller.ocpp_port, report, *case.peer_args)
    peer_proc = await asyncio.create_subprocess_exec(*command, cwd=peer)
    try:
        if case.restart:
            await asyncio.sleep(run.duration_s / 3)
            await controller.kill()
            await asyncio.sleep(down_s)
            await controller.start()
        return await asyncio.wait_for(peer_proc.wait(), run.duration_s + EXTRA_S)
    except TimeoutError:
        peer_proc.kill()
        return await peer_proc.wait()
    finally:
        await controller.stop()


def table(outcomes: list[Outcome]) -> str:
    rows = [
        "| case | OCPP | schema violations | s over the site limit | worst W over |"
        " profiles accepted / rejected | reconnects | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        accepted, rejected = o.profiles()
        verdict = "ok" if o.ok else ("DID NOT RUN" if not o.ran else "FAILED")
        rows.append(
            f"| {o.case} | {o.version} | {o.violations} | {o.over_s:g} | {o.worst_w:.0f} |"
            f" {accepted} / {rejected} | {o.reconnects()} | {verdict} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", type=Path, required=True, help="the ocpp-peer folder")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated")
    parser.add_argument("--versions", default="1.6,2.0.1", help="comma-separated")
    parser.add_argument("--chargers", type=int, default=10)
    parser.add_argument("--connectors", type=int, default=2)
    parser.add_argument("--duration", type=int, default=60, help="seconds per run")
    parser.add_argument("--down", type=float, default=5.0, help="seconds the controller is down")
    parser.add_argument("--keep", type=Path, help="keep configs, stores, logs, reports here")
    args = parser.parse_args(argv)
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="ems-peer-faults-") as scratch:
        root = args.keep or Path(scratch)
        peer = install_peer(args.peer.resolve(), Path(scratch))
        for name in args.cases.split(","):
            for version in args.versions.split(","):
                run = Run(version, args.chargers, args.connectors, args.duration)
                workdir = root / f"{name}-ocpp{version}"
                outcome = run_case(CASES[name], run, peer, workdir, args.down)
                outcomes.append(outcome)
                print(table([outcome]).splitlines()[-1], flush=True)
    print(table(outcomes))
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
