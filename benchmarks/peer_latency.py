"""What a scale run of `benchmarks.peer` reports: the peer's round-trip latency per action
(measured by the peer, which nobody here wrote), the time from a transaction's start to
the first TxProfile the charger got for it (read from the peer's frame trace), and the
controller's CPU seconds and peak RSS (read from /proc)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")
_LATENCY_HEADER = (
    f"{'action':<22} {'sent':>7} {'ok':>7} {'error':>6} {'timeout':>7} "
    f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
)


def cpu_s(pid: int) -> float:
    """User plus system CPU seconds of process `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def peak_rss_mb(pid: int) -> float:
    """The peak resident set size of process `pid` (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (the controller's worker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@dataclass
class ServerUsage:
    """The CPU a process and its children used between `begin` and `end` (children
    started since `begin` counted from 0), and their peak RSS at `end`."""

    pid: int = 0
    cpu_before_s: float = 0.0
    cpu_used_s: float = float("nan")
    rss_mb: tuple[float, ...] = ()

    def begin(self, pid: int) -> None:
        self.pid = pid
        self.cpu_before_s = sum(cpu_s(p) for p in [pid, *children(pid)])

    def end(self) -> None:
        try:
            pids = [self.pid, *children(self.pid)]
            self.cpu_used_s = sum(cpu_s(p) for p in pids) - self.cpu_before_s
            self.rss_mb = tuple(peak_rss_mb(p) for p in pids)
        except (FileNotFoundError, ProcessLookupError):  # it died: nothing to read
            pass

    def line(self) -> str:
        rss = " + ".join(f"{mb:.0f}" for mb in self.rss_mb)
        return (
            f"controller (and its worker): CPU {self.cpu_used_s:.1f} s, "
            f"peak RSS {rss} MB = {sum(self.rss_mb):.0f} MB"
        )


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (`q` in 0..1) of `values`; NaN if there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-int(q * 1000) * len(ordered) // 1000))
    return ordered[min(rank, len(ordered)) - 1]


def latency_table(
    report: dict[str, Any], tx_delays: Sequence[TxDelay] | None = None, booted_s: float = 0.0
) -> str:
    """The peer's per-action table, then (unless `tx_delays` is None) the time to the first
    TxProfile: for every session, and for those started once every charger had booted
    (`booted_s`). Until then a charger not yet heard from may draw its maximum, so sessions
    wait for room."""
    rows = [_LATENCY_HEADER]
    table = report.get("messages", {}).get("chargerToCsms", {})
    for action, row in sorted(table.items()):
        latency = row.get("latencyMs", {})
        rows.append(
            f"{action:<22} {row.get('sent', 0):>7} {row.get('ok', 0):>7} "
            f"{row.get('callError', 0):>6} {row.get('timeout', 0):>7} "
            + " ".join(f"{_ms(latency.get(key)):>8}" for key in ("p50", "p95", "p99", "max"))
        )
    if tx_delays is not None:
        rows += _tx_rows(tx_delays, booted_s)
    connections = report.get("connections", {})
    rows.append(
        f"unexpected drops {connections.get('dropsUnexpected', '?')}, "
        f"connect failures {connections.get('connectFailures', '?')}"
    )
    return "\n".join(rows)


def _tx_rows(tx_delays: Sequence[TxDelay], booted_s: float) -> list[str]:
    rows = []
    after_boot = [d for d in tx_delays if d.started_s >= booted_s]
    for label, delays in (
        ("start → 1st TxProfile", tx_delays),
        ("  after every boot", after_boot),
    ):
        delays_ms = [d.delay_s * 1000 for d in delays]
        rows.append(
            f"{label:<22} {len(delays_ms):>7} {'':>7} {'':>6} {'':>7} "
            + " ".join(f"{_ms(percentile(delays_ms, q)):>8}" for q in (0.50, 0.95, 0.99, 1.0))
        )
    rows.append(f"(the last charger booted {booted_s:.1f} s into the run)")
    return rows


def steady_table(trace: Path, until_s: float) -> str:
    """Latency per action from the peer's frame trace, for the calls sent before
    `until_s` (the end of the run, when the peer stops every session at once and each of
    its chargers sends its final probe: a burst no real estate sends)."""
    latencies_ms = trace_latencies_ms(trace, until_s)
    rows = [f"before the end of the run ({until_s:.0f} s), from the trace:", _LATENCY_HEADER]
    for action, values in sorted(latencies_ms.items()):
        rows.append(
            f"{action:<22} {len(values):>7} {'':>7} {'':>6} {'':>7} "
            + " ".join(f"{_ms(percentile(values, q)):>8}" for q in (0.50, 0.95, 0.99, 1.0))
        )
    return "\n".join(rows)


def trace_latencies_ms(trace: Path, until_s: float) -> dict[str, list[float]]:
    """Milliseconds from each charger's CALL sent before `until_s` to its answer."""
    if not trace.exists():
        return {}
    sent: dict[tuple[str, str], tuple[float, str]] = {}
    latencies: dict[str, list[float]] = {}
    for at, charger, outbound, frame in _frames(trace):
        if outbound and frame[0] == 2 and len(frame) > 2 and at < until_s:
            sent[(charger, frame[1])] = (at, frame[2])
        elif not outbound and frame[0] in (3, 4):
            call = sent.pop((charger, frame[1]), None)
            if call is not None:
                latencies.setdefault(call[1], []).append((at - call[0]) * 1000)
    return latencies


def _ms(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.0f}"


@dataclass(frozen=True)
class TxDelay:
    started_s: float
    """When the charger sent the transaction's start, seconds into the run."""
    delay_s: float
    """From then to the first TxProfile the central system sent that connector."""


def tx_profile_delays(trace: Path) -> list[TxDelay]:
    """Each transaction's start (the charger sending StartTransaction, or a 2.0.1
    TransactionEvent Started) and the time to the first TxProfile the central system sent
    that connector after it. A start that got none within the run is left out."""
    if not trace.exists():
        return []
    started: dict[tuple[str, int], float] = {}
    delays = []
    for at, charger, outbound, frame in _frames(trace):
        if frame[0] != 2 or len(frame) < 4:
            continue
        action, payload = frame[2], frame[3]
        if outbound:
            connector = _started_connector(action, payload)
            if connector is not None:
                started[(charger, connector)] = at
            continue
        connector = _tx_profile_connector(action, payload)
        begun = None if connector is None else started.pop((charger, connector), None)
        if begun is not None:
            delays.append(TxDelay(begun, at - begun))
    return delays


def last_boot_s(trace: Path) -> float:
    """When the last charger sent its BootNotification, seconds into the run (0 if none)."""
    if not trace.exists():
        return 0.0
    return max(
        (
            at
            for at, _, outbound, frame in _frames(trace)
            if outbound and frame[0] == 2 and len(frame) > 2 and frame[2] == "BootNotification"
        ),
        default=0.0,
    )


def _frames(trace: Path) -> Iterator[tuple[float, str, bool, list[Any]]]:
    with trace.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                entry = json.loads(line)
                frame = json.loads(entry["msg"])
            except (ValueError, KeyError):
                continue
            if isinstance(frame, list) and frame:
                yield float(entry["t"]), entry["cp"], entry["dir"] == "cp->csms", frame


def _started_connector(action: str, payload: dict[str, Any]) -> int | None:
    if action == "StartTransaction":
        return int(payload.get("connectorId", 0))
    if action == "TransactionEvent" and payload.get("eventType") == "Started":
        return int(payload.get("evse", {}).get("id", 0))
    return None


def _tx_profile_connector(action: str, payload: dict[str, Any]) -> int | None:
    if action != "SetChargingProfile":
        return None
    profile = payload.get("csChargingProfiles") or payload.get("chargingProfile") or {}
    if profile.get("chargingProfilePurpose") != "TxProfile":
        return None
    return int(payload.get("connectorId", payload.get("evseId", 0)))
