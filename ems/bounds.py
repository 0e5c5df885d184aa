"""What each connector may draw, as far as the controller can prove it.

Invariant 1 rests on this bound, never on what the controller hopes a charger does. Per
connector and profile purpose a `Slot` keeps what the charger told us:

- the newest profile it *accepted*, counted while it is in force (a TX profile only for
  its own transaction and until its validity ends);
- the profiles sent and not (yet) answered — or answered in a way that leaves open
  whether they were installed (a timeout) — counted at the higher of old and new;
- after it accepts a lower limit, the limit it replaced, counted for `reaction_s` more
  (IEC 61851-1 gives an EV up to 5 s to follow a lower duty cycle).

The bound is then: the TX profile in force (with its pending and lingering neighbours);
else the default profile's (TX_DEFAULT), or the hardware maximum while no default is
known to be installed; raised to the measured draw when the charger draws more; the
hardware maximum outright for a charger found non-compliant or without smart charging.
A station maximum only ever lowers what its connectors draw, so leaving it out keeps the
bound safe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from ems.commands import LimitPeriod, ProfilePurpose, SetLimit
from optimizer.problem import PhaseTriple

UNSURE_STATUSES = frozenset({"Timeout", "Failed"})
"""Answers that leave open whether the charger installed the profile: it counts as sent
and unanswered until it lapses or a later profile is accepted."""
NOT_DELIVERED = frozenset({"Offline", "InvalidRequest"})
"""Answers for a profile that never reached the charger: it still enforces what it had."""


def peak_a(command: SetLimit, now: datetime) -> float | None:
    """The highest limit the profile still applies from `now` on; None once it lapsed.

    Later periods count too: a charger follows its schedule without asking us.
    """
    end = command.end
    if end is not None and now >= end:
        return None
    periods = command.periods
    if len(periods) == 1:
        # in force or still to come, its limit is the peak (most profiles have one period)
        return periods[0].limit_a
    elapsed_s = (now - command.start).total_seconds()
    # one pass (this runs for every connector several times a step): the period in force
    # is the latest started, of equal starts the last listed
    current: LimitPeriod | None = None
    coming: float | None = None
    for period in periods:
        if period.start_s > elapsed_s:
            coming = period.limit_a if coming is None else max(coming, period.limit_a)
        elif current is None or period.start_s >= current.start_s:
            current = period
    if current is None:
        return coming
    return current.limit_a if coming is None else max(current.limit_a, coming)


class Lingering(NamedTuple):
    """A limit the charger replaced by a lower one, still counted until `until`. A named
    tuple rather than a frozen dataclass: one is made for every profile accepted."""

    limit_a: float
    until: datetime
    transaction_id: str | None


@dataclass
class Slot:
    """The profiles of one purpose on one connector, as far as the charger answered."""

    accepted: SetLimit | None = None
    accepted_at: datetime | None = None
    pending: list[SetLimit] = field(default_factory=list)
    lingering: Lingering | None = None
    last_sent: SetLimit | None = None
    """The newest profile sent, whatever became of it (not sent again unless changed)."""
    refused: bool = False
    """The charger's last clear answer was a refusal: what it enforces is not ours."""

    def sent(self, command: SetLimit) -> None:
        self.pending.append(command)
        self.last_sent = command

    def accept(self, command: SetLimit, at: datetime, before_a: float, reaction_s: float) -> None:
        """The charger installed `command`: it replaces the ones sent before it (same
        profile id per purpose and connector), and the limit it replaced counts on for
        `reaction_s`. An answer to a profile no longer expected (its EV left since) changes
        nothing."""
        if command not in self.pending:
            return
        index = self.pending.index(command)
        self.pending = self.pending[index + 1 :]
        self.accepted = command
        self.accepted_at = at
        self.refused = False
        self.lingering = Lingering(
            before_a, at + timedelta(seconds=reaction_s), command.transaction_id
        )

    def refuse(self, command: SetLimit, status: str) -> None:
        """`command` was not installed: the charger refused it, or it never got there
        (`NOT_DELIVERED`)."""
        if command in self.pending:
            self.pending.remove(command)
        if status not in NOT_DELIVERED:
            self.refused = True

    def forget(self) -> None:
        self.refused = False
        self.accepted = None
        self.accepted_at = None
        self.pending = []
        self.lingering = None
        self.last_sent = None

    def in_force(self, now: datetime, transaction_id: str | None) -> float | None:
        """The accepted profile's peak, if it applies at `now` (and to this transaction).

        Asked of a moment before the charger accepted it (a sample taken earlier), the
        answer is the limit it replaced.
        """
        command = self.accepted
        if command is None or command.transaction_id != transaction_id:
            return None
        if self.accepted_at is not None and now < self.accepted_at:
            linger = self.lingering
            return None if linger is None else linger.limit_a
        return peak_a(command, now)

    def uncertain_a(
        self, now: datetime, transaction_id: str | None, *, pending: bool = True
    ) -> float:
        """The most that sent-but-unanswered (unless not `pending`) and just-replaced
        profiles may still allow."""
        # a running maximum, not max() of a list: this runs for every connector several
        # times a step, mostly with nothing pending
        value = 0.0
        for command in self.pending if pending else ():
            if command.transaction_id == transaction_id:
                peak = peak_a(command, now)
                if peak is not None and peak > value:
                    value = peak
        linger = self.lingering
        if (
            linger is not None
            and now < linger.until
            and linger.transaction_id == transaction_id
            and linger.limit_a > value
        ):
            value = linger.limit_a
        return value


@dataclass
class Proof:
    """A connector's profile slots: its default (fallback) and its session profile."""

    default: Slot = field(default_factory=Slot)
    tx: Slot = field(default_factory=Slot)

    def slot(self, purpose: ProfilePurpose) -> Slot | None:
        if purpose is ProfilePurpose.TX_DEFAULT:
            return self.default
        if purpose is ProfilePurpose.TX:
            return self.tx
        return None

    def settled_at(self, transaction_id: str | None) -> datetime | None:
        """Since when the profiles in force apply in full: the last acceptance plus the
        reaction time; None when nothing was accepted."""
        # spelled out, not max() of a list: read for every sampled connector at every step
        settled: datetime | None = None
        for linger in (self.default.lingering, self.tx.lingering):
            if linger is None or linger.transaction_id not in (None, transaction_id):
                continue
            if settled is None or linger.until > settled:
                settled = linger.until
        return settled


class Bound(NamedTuple):
    """What a connector may draw per phase, and why that much. A named tuple rather than
    a frozen dataclass: one is made for every connector several times a step, and a
    tuple is made in half the time."""

    limit_a: float
    source: str

    @property
    def proven(self) -> bool:
        """False when nothing the charger confirmed bounds it (its hardware maximum)."""
        return self.source not in UNPROVEN_SOURCES


HARDWARE = "its hardware maximum: nothing confirmed holds it below that yet"
DEFAULT_REFUSED = "its hardware maximum: it refused its default profile"
NON_COMPLIANT = "its hardware maximum: draws more than allowed"
NON_COMPLIANT_BEFORE = "its hardware maximum: drew more than allowed in an earlier session"
NOT_SMART = "its hardware maximum: no smart charging"
MEASURED = "measured above its limit"
IGNORES_DEFAULT = frozenset({NON_COMPLIANT, NON_COMPLIANT_BEFORE, NOT_SMART, MEASURED})
"""Bounds of connectors whose default profile cannot be counted on to hold them."""
UNPROVEN_SOURCES = frozenset({HARDWARE, DEFAULT_REFUSED})


def default_bound(proof: Proof, max_a: float, now: datetime, *, pending: bool = True) -> Bound:
    """What the connector may draw on its default profile (between and before sessions);
    without what is sent and unanswered unless `pending`."""
    slot = proof.default
    installed = slot.in_force(now, None)
    uncertain = slot.uncertain_a(now, None, pending=pending)
    if installed is None or uncertain >= max_a:
        # nothing confirmed yet, or its EV may still follow the maximum it had before
        return Bound(max(max_a, uncertain), DEFAULT_REFUSED if slot.refused else HARDWARE)
    value = max(installed, uncertain)
    source = "its default profile" if value == installed else "a default profile not yet applied"
    return Bound(value, source)


def profile_bound(
    proof: Proof, max_a: float, transaction_id: str | None, now: datetime, *, pending: bool = True
) -> Bound:
    """What the profiles let the connector draw: its session profile in force, else its
    default; either raised by what is sent and unanswered (unless not `pending`) or just
    replaced. The default is read only where it decides (no session, or no session
    profile in force): this runs for every connector several times a step."""
    if transaction_id is None:
        return default_bound(proof, max_a, now, pending=pending)
    slot = proof.tx
    uncertain = slot.uncertain_a(now, transaction_id, pending=pending)
    installed = slot.in_force(now, transaction_id)
    if installed is None:
        fallback = default_bound(proof, max_a, now, pending=pending)
        if uncertain > fallback.limit_a:
            return Bound(uncertain, "a session profile not yet confirmed")
        return fallback
    if uncertain >= max_a:
        return Bound(uncertain, HARDWARE)
    if uncertain > installed:
        return Bound(uncertain, "a session profile not yet applied")
    return Bound(installed, "its session profile")


def measured_bound(bound: Bound, drawn_a: PhaseTriple | None) -> Bound:
    """The bound, raised to a measured draw above it (the charger does not hold it)."""
    if drawn_a is None or max(drawn_a) <= bound.limit_a:
        return bound
    return Bound(max(drawn_a), MEASURED)
