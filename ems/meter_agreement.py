"""Whether the site meter agrees with what the controller knows of its own chargers.

Fresh is not true: a gateway serving the last values of a dead meter, a meter wired before
the EV sub-board, a wrong CT or an inverted sign all give readings that look alive. Where
chargers sit behind the meter (`behind_meter`), their reports are a second measurement of
part of what the meter sees, and the meter must agree with them:

- it reads enough: on every phase at least what our chargers behind it report drawing
  there (as counted off a reading, `counted_draw`), less `meter_agree_tolerance_a`. Short
  on `SHORT_READINGS` readings in a row, it is distrusted, naming the phase — never a
  silent clamp of the base load to zero;
- it is not frozen: a clear change of our chargers' draw (below) that every phase of the
  meter still reads exactly as before, `meter_follow_s` after it was reported, is a meter
  serving old values, whatever else was changing at the time;
- it follows: when one of our chargers reports its draw on a phase changed by at least
  `meter_follow_step_a` — or several did, by changes the same way whose samples overlap,
  taken as one (`_note`) — the meter must move the same way by at least `FOLLOW_SHARE` of
  what all our chargers together changed there, within `meter_follow_s` of that sample
  (samples further apart than `STEP_WINDOWS` windows are not judged; what our other
  changes left of it within the agreement tolerance is not judged either). A meter
  that does not is frozen, lagging or blind to our chargers;
- it shows all of it: over the last `GAIN_STEPS` changes it showed on a phase, it moved
  by at least `GAIN_MIN` of what our chargers changed (a wrong CT ratio, a scale factor
  off, some of our chargers not behind it all pass the checks above one change at a time).

A distrusted meter turns the controller conservative (the worst configured base load),
as a stale one does (`ems.meter_watch`), and is trusted again only once it has followed a
change of our chargers' draw that a lagging meter could not pass off as an earlier one
(no change the same way shortly before it, and a move of the same size). While a change
is still to show on the meter, no raise rests on it (`settling`), and a change it never
showed that proves no fault (an arrival, whose start is known only roughly; changes too
close together; the follow check off) keeps raises held until the meter shows it late or
shows a later change of ours, or for as long as the changes that would show it are
remembered (`_memory_s`): a frozen or blind meter cannot justify a raise meanwhile, and the
first raise after is a change of ours it must show. (Held for good, it kept a site paused in
the closed loop: with every session paused, no change of ours came for the meter to show.)
The gain check is slow by nature (a dozen changes per phase): it catches a meter installed
wrong within the first hours of charging, not the moment it goes wrong.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from enum import Enum

from ems.capacity import behind_meter_draw
from ems.events import MeterReading
from ems.meter_watch import SHORT_READINGS, Agreement, Mode, Step
from ems.phases import PHASES
from ems.site import ControlSettings
from ems.state import ConnectorRuntime, Draw, SiteState
from optimizer.problem import PhaseTriple

FOLLOW_SHARE = 0.5
"""The share of our chargers' change the meter must show (the building moves too)."""
MINOR_A = 0.5
"""A change of a connector's reported draw smaller than this is noise, not a change."""
GAIN_STEPS = 12
"""Changes of ours shown on a phase that the meter's gain is measured over: one change says
little beside the building's own moves; a dozen, weighted by their size, say how much of
our chargers' draw the meter sees."""
GAIN_MIN = 0.75
"""The least share of our chargers' changes the meter must show, measured over
`GAIN_STEPS`. A meter that shows less (a wrong CT ratio or scale, part of our chargers not
behind it) reads the site's current low by as much: filled to its limit as read, the site
would carry the limit divided by that share. With an 8 A change every 20 s and building
noise of up to 3 A either way at every reading, 12 changes and 0.75 distrusted no honest
meter in 100 seeded runs of 400 s (4 of the 100 with 4 A of noise), and every meter
showing 67 % (a 150/5 CT set as 100/5) or 70 %."""
UNSHOWN_KEPT = 32
"""The newest unshown changes kept: more prove nothing more, and any is enough to hold."""
JOIN = "+"
"""Between the keys of connectors whose changes are judged as one, in the step's key."""
STEP_WINDOWS = 4
"""A change is judged only when the two samples showing it are at most this many
`meter_follow_s` apart: over a longer gap the building's own drift could hide it or fake
it (a replay of 5-minute steps is never judged)."""


def observe_step(
    state: SiteState, connector: ConnectorRuntime, previous: Draw | None, settings: ControlSettings
) -> None:
    """Note a change in a behind-meter connector's draw, for the follow check: from its
    previous sample, or for a newly plugged-in EV's first sample, from nothing. A clear one
    (`meter_follow_step_a`) is judged; a smaller one is counted beside those."""
    latest = connector.drawn
    if latest is None or latest is previous:
        return
    if not state.charger_of(connector).config.behind_meter:
        return
    agreement = state.meter.agreement
    arrival = previous is None
    if previous is None:
        since = connector.present_since
        if since is None or latest.at < since or _arrived(agreement, connector.key, since):
            return
        before, drawn_before = since, (0.0, 0.0, 0.0)
    else:
        before, drawn_before = previous.at, previous.current_a
    if (latest.at - before).total_seconds() > STEP_WINDOWS * settings.meter_follow_s:
        return
    for phase in PHASES:
        change = latest.current_a[phase] - drawn_before[phase]
        if abs(change) < MINOR_A:
            continue
        _note(agreement, Step(connector.key, phase, change, before, latest.at, arrival), settings)
    keep_s = _memory_s(settings)
    agreement.past = [s for s in agreement.past if (latest.at - s.after).total_seconds() <= keep_s]


def _note(agreement: Agreement, step: Step, settings: ControlSettings) -> None:
    """Judge a clear change, count a small one beside the others; either joined first to
    a change the same way on its phase whose samples it overlaps (`_joinable`): one still
    judged, or small ones counted. Joined, they are one change of ours, judged once
    clear: five EVs lowered by 4 A each at once move a phase by 20 A, and a lagging or
    frozen meter that does not show it is caught as surely as by one EV's 20 A (judged
    one by one, small ones went unjudged and clear ones, each close to the others, proved
    nothing: a lagging meter hid them until the building rose)."""
    if not step.arrival:
        for kept, judged in ((agreement.steps, True), (agreement.past, False)):
            group = _joinable(kept, step, judged, settings)
            if group is not None:
                kept.remove(group)
                step = _joined(group, step)
                break
    clear = abs(step.change_a) >= settings.meter_follow_step_a
    (agreement.steps if clear else agreement.past).append(step)


def _joinable(
    steps: list[Step], step: Step, judged: bool, settings: ControlSettings
) -> Step | None:
    """The newest of `steps` (still `judged`, or counted) that a change joins: on
    its phase, the same way, not an arrival (its start is known only roughly) nor a clear
    change counted after it was judged, their sample intervals overlapping or touching
    (each EV's change happened within its own interval: together, within the union), and
    all of it within `meter_follow_s` (the building drifts too)."""
    for other in reversed(steps):
        if (
            other.phase is step.phase
            and not other.arrival
            and (judged or abs(other.change_a) < settings.meter_follow_step_a)
            and other.change_a * step.change_a > 0
            and step.before <= other.after
            and other.before <= step.after
            and (max(step.after, other.after) - min(step.before, other.before)).total_seconds()
            <= settings.meter_follow_s
        ):
            return other
    return None


def _joined(group: Step, step: Step) -> Step:
    keys = group.key.split(JOIN)
    key = group.key if step.key in keys else JOIN.join((*keys, step.key))
    return Step(
        key,
        step.phase,
        group.change_a + step.change_a,
        min(group.before, step.before),
        max(group.after, step.after),
    )


def _memory_s(settings: ControlSettings) -> float:
    """How long changes of ours are remembered: a proof of freshness looks `STEP_WINDOWS`
    follow windows back from a change judged up to as long after it."""
    return 2 * STEP_WINDOWS * settings.meter_follow_s


def _arrived(agreement: Agreement, key: str, since: datetime) -> bool:
    """Whether the EV plugged in at `since` has its arrival noted already (a session
    starting after its first sample clears that sample: its next one is no new arrival)."""
    return any(
        s.arrival and s.key == key and s.before == since
        for s in (*agreement.steps, *agreement.past, *agreement.unshown)
    )


def settling(state: SiteState) -> bool:
    """Whether no raise may rest on the meter now: it has yet to show a change our
    chargers reported (a base load taken off it may lack their new draw), or its last
    reading was short of what they report (one short reading is not yet a fault, but a
    base load taken off it is no measure). Conservative mode does not rest on the meter."""
    agreement = state.meter.agreement
    suspect = bool(agreement.steps or agreement.unshown) or agreement.short_streak > 0
    return state.meter.mode is Mode.NORMAL and suspect


def awaited(state: SiteState) -> str:
    """What the meter has yet to show while `settling`, for the operator: the change of ours
    it waits for (the oldest), or that its last reading was short."""
    agreement = state.meter.agreement
    if agreement.short_streak > 0:
        return "our chargers' draw (its last reading was short of it)"
    waiting = agreement.steps or agreement.unshown
    if not waiting:
        return "our chargers' last change"
    step = min(waiting, key=lambda s: s.after)
    kind = "arrival" if step.arrival else "change"
    return (
        f"{step.key}'s {step.change_a:+.1f} A {kind} on {step.phase.name}, "
        f"reported at {step.after.isoformat(timespec='seconds')}"
    )


def check_reading(state: SiteState, reading: MeterReading, settings: ControlSettings) -> str | None:
    """Why the good reading just observed cannot be trusted; None when it agrees."""
    current = state.meter.current_a
    if current is None or not _has_behind_meter(state):
        return None
    ours = behind_meter_draw(state, reading.at, settings)
    return _short(state, reading, current, ours, settings) or _not_following(
        state, reading, current, settings
    )


def _has_behind_meter(state: SiteState) -> bool:
    return any(ch.config.behind_meter for ch in state.chargers.values())


def _short(
    state: SiteState,
    reading: MeterReading,
    current: PhaseTriple,
    ours: PhaseTriple,
    settings: ControlSettings,
) -> str | None:
    tolerance = settings.meter_agree_tolerance_a
    pv = state.site.pv_peak_a
    short = [p for p in PHASES if current[p] < ours[p] - tolerance - pv[p]]
    if not short:
        state.meter.agreement.short_streak = 0
        return None
    state.meter.agreement.short_streak += 1
    if state.meter.agreement.short_streak < SHORT_READINGS:
        return None
    p = short[0]
    state.meter.agreement.disagreed_at = reading.at
    state.meter.agreement.unfollowed = (
        f"site meter {reading.meter_id} reads {current[p]:.1f} A on {p.name}, less than the "
        f"{ours[p]:.1f} A our chargers behind it report there (tolerance {tolerance:g} A"
        f"{f', PV up to {pv[p]:g} A' if pv[p] else ''}): "
        "it does not see them (wiring, CT) or its sign is wrong"
    )
    return state.meter.agreement.unfollowed


def _not_following(
    state: SiteState, reading: MeterReading, current: PhaseTriple, settings: ControlSettings
) -> str | None:
    """Settle the steps a reading can judge; the reason for the first one the meter
    failed to follow in time."""
    agreement = state.meter.agreement
    memory_s = _memory_s(settings)
    agreement.unshown = [
        s
        for s in agreement.unshown
        if (reading.at - s.after).total_seconds() <= memory_s
        and not _shown_late(state, s, reading.at, current, settings)
    ][-UNSHOWN_KEPT:]
    failed: str | None = None
    kept: list[Step] = []
    for step in agreement.steps:
        verdict, reason = _judge(state, step, reading, current, settings)
        if verdict is Verdict.PENDING:
            kept.append(step)
            continue
        if verdict is not Verdict.UNSHOWN:
            agreement.past.append(step)
        if verdict is Verdict.SHOWN and not step.arrival:  # its start is known only roughly
            agreement.gauging = [*agreement.gauging, step][-UNSHOWN_KEPT:]
            agreement.unshown = [s for s in agreement.unshown if s.after > step.before]
            agreement.unfollowed = _followed(
                agreement.unfollowed, step, state, reading, current, settings
            )
        elif verdict is Verdict.UNSHOWN:
            agreement.unshown.append(step)
        elif verdict is Verdict.FAILED and failed is None:
            failed = reason
    agreement.steps = kept
    _gauge(state, reading.at, current, settings)
    failed = failed or _low_gain(state, reading)
    if failed is not None:
        agreement.unfollowed, agreement.disagreed_at = failed, reading.at
    elif agreement.unfollowed is not None and agreement.disagreed_at is not None:
        quiet_s = (reading.at - agreement.disagreed_at).total_seconds()
        if quiet_s >= STEP_WINDOWS * settings.meter_follow_s:
            agreement.unfollowed = None
            agreement.regained = f"it agreed with our chargers for {quiet_s:.0f} s"
    return agreement.unfollowed


def _gauge(state: SiteState, at: datetime, current: PhaseTriple, settings: ControlSettings) -> None:
    """Measure, for `_low_gain`, what the meter moved against what our chargers changed,
    for each change it showed whose follow window has passed: measured when it first
    showed enough, the move would be biased up (a noisy reading passes first), and any
    honest meter shows all of a change by the window's end. Our changes in the window
    count with it; where they cancel it out, there is nothing to measure."""
    agreement = state.meter.agreement
    waiting: list[Step] = []
    for step in agreement.gauging:
        if (at - step.after).total_seconds() < settings.meter_follow_s:
            waiting.append(step)
            continue
        base = state.meter.reading_at_or_before(step.before)
        if base is None or _straddled(agreement, step, base[0], either_way=True):
            continue
        ours = _our_change(agreement, step, at)
        if abs(ours) < settings.meter_follow_step_a:
            continue
        gains = agreement.gains.setdefault(step.phase, deque(maxlen=GAIN_STEPS))
        gains.append((ours, current[step.phase] - base[1][step.phase]))
    agreement.gauging = waiting


def _low_gain(state: SiteState, reading: MeterReading) -> str | None:
    """Why the meter reads too little of our chargers' changes on a phase; None if it
    reads enough or has shown too few yet. The gain is the least-squares slope of the
    meter's moves on ours: large changes weigh most, the building's noise averages out."""
    for phase, gains in sorted(state.meter.agreement.gains.items()):
        if len(gains) < GAIN_STEPS:
            continue
        gain = sum(ours * moved for ours, moved in gains) / sum(ours * ours for ours, _ in gains)
        if gain < GAIN_MIN:
            return (
                f"site meter {reading.meter_id} shows {gain:.0%} of our chargers' changes on "
                f"{phase.name} (their last {len(gains)}; at least {GAIN_MIN:.0%} expected): "
                "a wrong CT ratio or scale factor, or some of our chargers not behind it"
            )
    return None


def _shown_late(
    state: SiteState, step: Step, at: datetime, current: PhaseTriple, settings: ControlSettings
) -> bool:
    """Whether the meter now shows an unshown change: moved from its reading before the
    change by what our chargers changed since (the connector's own change may have been
    undone since: then there is nothing left to show). Once that reading has left the
    meter's history, only a later change of ours the meter shows can prove it alive."""
    base = state.meter.reading_at_or_before(step.before)
    if base is None:
        return False
    expected = _our_change(state.meter.agreement, step, at)
    if _nothing_to_show(expected, settings):
        return True
    return _shows(current[step.phase] - base[1][step.phase], expected, settings)


def _followed(
    unfollowed: str | None,
    step: Step,
    state: SiteState,
    reading: MeterReading,
    current: PhaseTriple,
    settings: ControlSettings,
) -> str | None:
    """After the meter disagreed (short, or not following), trust returns once it has
    shown a change of ours again that only a fresh meter could show (`_proves_fresh`) — a
    few quiet readings prove nothing of a lagging or frozen meter — or after
    `STEP_WINDOWS` follow windows of agreeing readings."""
    if unfollowed is None:
        return None
    base = state.meter.reading_at_or_before(step.before)
    if base is None or reading.at < step.after:
        return unfollowed
    moved = current[step.phase] - base[1][step.phase]
    if not _proves_fresh(state.meter.agreement, step, moved, settings):
        return unfollowed
    state.meter.agreement.regained = (
        f"it showed {step.key}'s {step.change_a:+.1f} A on {step.phase.name} "
        f"(moved {moved:+.1f} A since {step.before.isoformat(timespec='seconds')})"
    )
    return None


def _proves_fresh(
    agreement: Agreement, step: Step, moved_a: float, settings: ControlSettings
) -> bool:
    """Whether the meter moving `moved_a` proves it shows the present. A lagging meter
    shows our earlier changes late: one the same way in the follow windows before the
    step could pass for it, so the step must come alone. An arrival's start is known only
    roughly. And the move must match ours in size, not merely go the same way: a building
    change shown late could pass for a part of it."""
    if step.arrival:
        return False
    since = step.before - timedelta(seconds=STEP_WINDOWS * settings.meter_follow_s)
    for other in (*agreement.steps, *agreement.past, *agreement.unshown):
        earlier = other.before < step.before and other.after > since
        same_way = other.change_a * step.change_a > 0
        if other is not step and other.phase is step.phase and earlier and same_way:
            return False
    expected = step.change_a
    share = abs(moved_a - expected) / abs(expected)
    return share <= 1 - FOLLOW_SHARE or abs(moved_a - expected) <= settings.meter_agree_tolerance_a


def _nothing_to_show(expected_a: float, settings: ControlSettings) -> bool:
    """Whether what our chargers changed, all told, is within the agreement tolerance: a
    meter standing still shows it. Only that much may go unjudged: a clear change partly
    undone is still judged on what is left (a 6.7 A raise of five EVs, 3.2 A of it taken
    back half a second later, left 3.5 A a lagging meter hid; called moot, each such rest
    handed a lagging meter's room out, and together they took the fault rig's fuse 6 A
    over)."""
    return abs(expected_a) <= settings.meter_agree_tolerance_a


def _shows(moved_a: float, expected_a: float, settings: ControlSettings) -> bool:
    """Whether the meter's move shows our chargers' change: the same way by at least
    `FOLLOW_SHARE` of it, or within the agreement tolerance of it."""
    same_way = moved_a * (1 if expected_a > 0 else -1) >= FOLLOW_SHARE * abs(expected_a)
    return same_way or abs(moved_a - expected_a) <= settings.meter_agree_tolerance_a


class Verdict(Enum):
    """What a reading says of one change of ours."""

    PENDING = "still to show, or still in time"
    SHOWN = "the meter showed it"
    MOOT = "nothing to judge"
    UNSHOWN = "not shown in time, but no proof of a fault"
    FAILED = "not shown in time: the meter is frozen, lagging or blind"


def _judge(
    state: SiteState,
    step: Step,
    reading: MeterReading,
    current: PhaseTriple,
    settings: ControlSettings,
) -> tuple[Verdict, str | None]:
    """What the reading says of the step, and if the meter failed to follow it, why.
    Moot: no reading from before it, or our other chargers made up for it."""
    base = state.meter.reading_at_or_before(step.before)
    if base is None:
        return Verdict.MOOT, None
    steps = state.meter.agreement.steps
    if _straddled(state.meter.agreement, step, base[0], either_way=False):
        return Verdict.MOOT, None
    expected = _our_change(state.meter.agreement, step, reading.at)
    if _nothing_to_show(expected, settings):
        return Verdict.MOOT, None
    if reading.at < step.after:
        return Verdict.PENDING, None
    moved = current[step.phase] - base[1][step.phase]
    if _shows(moved, expected, settings):
        return Verdict.SHOWN, None
    if (reading.at - step.after).total_seconds() <= settings.meter_follow_s:
        return Verdict.PENDING, None
    if state.meter.unchanged_since(step.before, current):
        return Verdict.FAILED, (
            f"site meter {reading.meter_id} is frozen: every phase has read exactly the same "
            f"since {step.before.isoformat(timespec='seconds')}, while our chargers' draw on "
            f"{step.phase.name} changed {expected:+.1f} A"
        )
    if _no_proof(step, steps, settings):
        return Verdict.UNSHOWN, None
    return Verdict.FAILED, (
        f"site meter {reading.meter_id} did not follow our chargers: {step.phase.name} "
        f"expected {expected:+.1f} A since {step.before.isoformat(timespec='seconds')}, "
        f"moved {moved:+.1f} A in {settings.meter_follow_s:g} s (frozen, lagging or not "
        "measuring them)"
    )


def _no_proof(step: Step, steps: list[Step], settings: ControlSettings) -> bool:
    """Whether the meter not showing the step proves no fault: the follow check is off;
    the step is an arrival (when the EV started is known only roughly); its samples are
    further apart than `meter_follow_s` (a charger reporting seldom: the building may have
    moved the other way meanwhile); or other changes came close around it."""
    loose = (step.after - step.before).total_seconds() > settings.meter_follow_s
    return not settings.meter_follow_check or step.arrival or loose or _busy(steps, step, settings)


def _busy(steps: list[Step], step: Step, settings: ControlSettings) -> bool:
    """Whether other changes on the phase came close around this one: the meter not
    showing the sum is then no proof (when each happened is known only between samples);
    a frozen or blind meter fails the next change that comes alone."""
    since = step.before - timedelta(seconds=settings.meter_follow_s)
    return any(
        other is not step and other.phase is step.phase and other.after >= since for other in steps
    )


def _straddled(agreement: Agreement, step: Step, base_at: datetime, either_way: bool) -> bool:
    """Whether the meter's move from the baseline reading (taken at `base_at`) says nothing
    sure of the step: another change on the phase still being judged may have happened
    before or after that reading alike; or another change of ours, begun before the step,
    may have reached the meter only after that reading — then the move holds part of it,
    which `_our_change` does not count. Such a change the other way could hide the step (a
    charger's brief dip — a sample at 0 A between two at 18 A, the meter dipping for one
    reading — made the rise after it look unshown, measured from before the dip); one the
    same way only adds to the move (`either_way` counts those too, for a measure of it)."""
    pending = any(
        other is not step and other.phase is step.phase and other.before < step.before < other.after
        for other in agreement.steps
    )
    return pending or any(
        other is not step
        and other.phase is step.phase
        and other.before < step.before
        and other.after > base_at
        and (either_way or other.change_a * step.change_a < 0)
        for other in (*agreement.steps, *agreement.past, *agreement.unshown)
    )


def _our_change(agreement: Agreement, step: Step, until: datetime) -> float:
    """How much our chargers' draw on the step's phase changed from its baseline until
    `until`: its own change and every other one known to have happened in between,
    however small (three EVs raised by 3 A each make up for a fourth paused from 9 A)."""
    known = {id(s): s for s in (*agreement.steps, *agreement.past, *agreement.unshown)}
    return step.change_a + sum(
        other.change_a
        for other in known.values()
        if other is not step
        and other.phase is step.phase
        and other.before >= step.before
        and other.after <= until
    )
