"""What the rig measures: `Sample` (the true per-phase current every `SAMPLE_S`, and what
was over a limit), `Observation` (the controller's mode and health as its HTTP API said) and
`RowResult` (one row's samples, observations and notes, the figures the table and the tests
read, its summary and its CSV files)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.fault_rig.site import PhaseTriple

SAMPLE_S = 0.1
"""How often the rig samples the true current."""


@dataclass(frozen=True)
class Sample:
    t: float
    """`time.monotonic()` when taken."""
    site_a: PhaseTriple
    over: tuple[tuple[str, float, float], ...]
    """(where, true current, limit) for each phase of the site or a circuit above its limit."""


@dataclass(frozen=True)
class Observation:
    t: float
    """`time.monotonic()` when asked."""
    up: bool
    mode: str | None = None
    healthy: bool | None = None
    reason: str | None = None
    base_load_a: tuple[float | None, ...] | None = None
    error: str | None = None
    """Why the status API gave no answer (down, an HTTP error)."""


@dataclass
class RowResult:
    name: str
    title: str
    seconds: float
    samples: list[Sample] = field(default_factory=list, repr=False)
    observations: list[Observation] = field(default_factory=list, repr=False)
    meter_fault: bool = False
    settled: bool = False
    limit_a: float = 0.0
    fault_at: float | None = None
    """`time.monotonic()` when the fault started (None: it never did)."""
    notes: list[str] = field(default_factory=list)
    log_excerpt: list[str] = field(default_factory=list, repr=False)
    error: str | None = None
    """Why the row could not run (the controller did not come up...)."""
    around_over: list[str] = field(default_factory=list, repr=False)
    """The controller's log around the first over (and the first after the fault)."""

    def at(self, t: float) -> float:
        """Seconds from the fault to monotonic time `t` (negative: before it)."""
        return t - (self.fault_at if self.fault_at is not None else float("inf"))

    @property
    def over_samples(self) -> int:
        return sum(1 for s in self.samples if s.over)

    @property
    def over_s(self) -> float:
        return self.over_samples * SAMPLE_S

    @property
    def over_before_s(self) -> float:
        """Of `over_s`, the time before the fault started (start-up, settling)."""
        return sum(1 for s in self.samples if s.over and self.at(s.t) < 0) * SAMPLE_S

    @property
    def worst_over_a(self) -> float:
        return max((a - limit for s in self.samples for _, a, limit in s.over), default=0.0)

    @property
    def first_over(self) -> Sample | None:
        return next((s for s in self.samples if s.over), None)

    @property
    def time_to_conservative_s(self) -> float | None:
        """From the fault to the first answer of the status API in another mode than
        normal; None if it never left normal mode while up."""
        seen = (o for o in self.observations if self.at(o.t) >= 0 and o.up and o.mode)
        return next((self.at(o.t) for o in seen if o.mode != "normal"), None)

    @property
    def time_to_unhealthy_s(self) -> float | None:
        seen = (o for o in self.observations if self.at(o.t) >= 0 and o.up)
        return next((self.at(o.t) for o in seen if o.healthy is False), None)

    @property
    def fuse_used_pct(self) -> float | None:
        """Mean, over the samples from the fault on that are within every limit, of the
        most loaded site phase as a share of the site limit."""
        safe = [max(s.site_a) for s in self.samples if self.at(s.t) >= 0 and not s.over]
        if not safe or self.limit_a <= 0:
            return None
        return 100.0 * sum(safe) / len(safe) / self.limit_a

    def write(self, workdir: Path) -> None:
        """samples.csv (true current, what was over) and observations.csv (the controller's
        mode as its API said), times in seconds from the fault."""
        with (workdir / "samples.csv").open("w", encoding="utf-8") as out:
            out.write("t_s,l1_a,l2_a,l3_a,over\n")
            for s in self.samples:
                over = "; ".join(f"{w} {a:.2f}>{lim:g}" for w, a, lim in s.over)
                a, b, c = s.site_a
                out.write(f"{self.at(s.t):.2f},{a:.2f},{b:.2f},{c:.2f},{over}\n")
        with (workdir / "observations.csv").open("w", encoding="utf-8") as out:
            out.write("t_s,up,mode,healthy,base_l1,base_l2,base_l3,reason\n")
            for o in self.observations:
                base = ",".join("" if v is None else f"{v:.2f}" for v in o.base_load_a or ())
                base = base or ",,"
                reason = (o.reason or "").replace(",", ";")
                out.write(f"{self.at(o.t):.2f},{o.up},{o.mode},{o.healthy},{base},{reason}\n")

    def summary(self) -> str:
        lines = [f"{self.name}: {self.title}"]
        if self.error is not None:
            return "\n".join([*lines, "  the rig failed: " + self.error])
        first = self.first_over
        if first is None:
            lines.append("  never over any limit")
        else:
            lines.append(
                f"  over for {self.over_s:.1f} s ({self.over_before_s:.1f} s of it before the "
                f"fault), worst +{self.worst_over_a:.1f} A"
            )
            after = next((s for s in self.samples if s.over and self.at(s.t) >= 0), None)
            for label, sample in (("first", first), ("first after the fault", after)):
                if sample is not None and (label == "first" or sample is not first):
                    where = ", ".join(f"{w} {a:.1f}/{lim:g} A" for w, a, lim in sample.over)
                    lines.append(f"  {label} over at {self.at(sample.t):+.1f} s: {where}")
        ttc = self.time_to_conservative_s
        lines.append("  time to conservative: " + ("never" if ttc is None else f"{ttc:.1f} s"))
        lines += [f"  {note}" for note in self.notes]
        lines += [f"  | {line[:200]}" for line in self.log_excerpt]
        lines += [f"  {line}" for line in self.around_over]
        return "\n".join(lines)
