"""Look-ahead to the departures: charge now what cannot be charged later.

Water-filling shares the present fairly, but it does not see capacity that is lost if it
is not used now. A small circuit whose EVs cannot all finish before they leave, or a phase
that only some 1-phase EVs draw on, is such capacity: the sessions with hours to spare can
make up later what they yield now, those on the bottleneck cannot.

One LP over the sessions that stated their need and departure, from now to the last
departure, in blocks: the step applied now, `FINE_BLOCKS` more blocks of one step, then
blocks doubling in length (with money, up to an hour: `PRICED_BLOCK_S`). In every block
each row (site phase, circuit phase, power cap) holds with its right-hand side of now:
nothing is held back for arrivals nobody knows of (a tenth held back hid from the plan
that capacity late in a stay goes unused when the EVs that could use it have left; see
`LEAVING_WEIGHT` for how the plan hedges instead). A session draws at most its maximum
for the part of a block before it leaves, and at most its need in all. A current set for
a step holds until the next, so in the blocks of one step a session leaving within the
step draws its current only while there but takes its room on the rows for all of it
(`_Blocks.held`); a longer block's current is a mean over it, as its steps will re-plan
the room a session leaves behind.

Batteries take less as they fill, and the controller cannot see when: after the first
block (whose maximum is observed, see `ems.closed_loop`) a session is planned with a
battery tail, its maximum falling linearly over the last `TAIL_WH` of its need to
`TAIL_END` of it. The tail is a concave bound in the energy taken so far, so it stays
linear; its rows are added only where a plan breaks them (`TAIL_ROUNDS`). A battery fills
as it draws, so a block's current is held to what the battery takes over the part of the
block the session is there, not to its maximum at the block's start (`tail_weights`).
A session seen drawing less than it is allowed (`Parameters.tapering`) is planned with
its tail in the first block too: its observed maximum is its draw of the last step plus a
margin, which a filling battery no longer takes, and every probe interval the controller
lifts it to the EV's full maximum; at either, a session in its last kilowatt-hours was
given room that went unused. It is never held below the rate that finishes it before it
leaves: the model's tail is no EV's, and held to it, sessions with little time left left
short (two on the shipped office day, by 62 and 5 Wh). On the generated family with
tapering batteries (`python -m benchmarks.quality --count 40 --min-current 0 --battery
tapering`, seeds 1000) the mean gap to offline went from -0.26 to -0.21 points (-0.20
without that floor), no scenario lower (residential-1010 +0.77); with ideal batteries
(seeds 1000, 3000, 5000, 7000) no scenario changed. Planned for every session whose need
is in the tail, seen tapering or not, it held ideal batteries back (seeds 5000: the worst
against max(EDF, LLF) from -0.01 to -0.06).
Sessions without a need or a departure keep their fair share in every block. When every
planned session fits at its maximum now there is nothing to choose, and no LP is solved.

The minimum current binds now: a session charges at least its minimum or not at all in
the first block. A session the relaxed plan gives more than nothing but less than its
minimum is undecided; every other session is held on its side of its minimum, and the
undecided ones, nearest their minimum first, are each tried on and off, the better plan
kept (each try a warm re-solve with only bounds changed, where a MIP over the same
choices took several times longer per step; the other side is not tried where the first
reaches the relaxed plan's objective, see `_choose`). The other blocks are a plan re-made
at every step, so they stay continuous.

Objective, in ranked order: the most energy by the departures; then the most energy
soon (`EARLY_WEIGHT`, falling over the blocks: the plan is blind to arrivals, which take
the capacity it counts on later) and to the sessions that leave first (`LEAVING_WEIGHT`:
what the plan cannot see, arrivals, a building load that rises or falls, falls on the
sessions still there); then, between plans of (nearly) equal energy, the one that
finishes sessions (`FINISH_WEIGHT`); then the least deviation from the fair shares now,
`DEVIATION_WEIGHT` per phase-ampere (so a deviation must gain at least that share of its
energy in the plan to be made). The first block's currents are the plan for now. Its
shape changes at every step (sessions come and go, blocks shrink), so it is built directly
as a HiGHS model rather than through a persistent model; but it starts
from the last step's relaxed plan (`PlanMemory`, kept by the caller): the tail rows that
bound that plan are stated up front, and the last basis is mapped onto the new model by
session and block index (`optimizer.warm_start`), not by time: block b's statuses were a
better start for block b than those of the block covering the same time (on a slice of
the garage day, 5,200 iterations against 9,800 mapped by time and 22,300 cold). With
`LOOKAHEAD_OPTIONS`, the garage day's recorded plans took 4.7 s of CPU against 9.8 s
cold (the first solves 40,000 iterations against 100,000, the tail rounds 6,400 against
82,000), its replay 8.4-8.6 s against 14.0-14.1 s on a busy machine (issue 15's target
is 8 s); where the plan's optimum is not unique, it may differ from a cold solve's at
equal value (the garage delivered 0.06 kWh more, the quality family as much or more). A
start HiGHS cannot finish from is solved again cold.

Money ranks below the energy and above the fairness terms (`Lookahead.has_money`): each
block's energy is priced at the block's mean import price, and a demand charge prices the
highest site import over the blocks above what the billing period already paid for
(`peak_so_far_w`), the site besides the planned sessions importing `base_import` (else
the base load of now) plus the others' shares of now, each planned session counted at its
rate while it is there (`_MoneyColumns`). Energy taken from what the site
would export is priced at the import it saves less the feed-in it forgoes (a column per
block, at most the surplus). Only money reads `base_import`; the rows keep the measured
base load. Money is weighed in one currency, so a kW of peak and a kWh of energy trade at their
prices, and scaled so that neither outweighs the energy: the dearest phase-ampere-second
costs at most `MONEY_WEIGHT` of its energy, and a phase-ampere of peak at most that of
one step of it (one more phase-ampere of peak lets at least one step take one more). The
fairness terms (deviation, earliness) are scaled below the money
(`PRICE_RESOLUTION`), so a session waits for a cheaper hour rather than take its fair
share now; a plan with money is followed exactly now (`PlanNow.priced`), not topped up.
Waiting must not cost energy the plan counted on: a session is planned to be done some
time before it leaves (`deadline_margins`, with or without money), and with money an EV
not yet seen drawing charges at its minimum now (`PROBE_A`), so that its phases are
known before it waits, unless it has time to spare even as a 1-phase EV on rows that are
not crowded (`probed`). The time kept in hand is the session's own: a share
(`TAIL_MARGIN_SHARE`, with money `PRICED_TAIL_MARGIN_SHARE`) of the time its remaining
battery tail takes at its taper, which is what the real taper can
take beyond the planned one (a few minutes, since the tail rows follow the battery
through a block); up to `DEADLINE_MARGIN_S` where the rows are crowded (`CROWDED_FROM`),
where newcomers' shares take the last minutes. One margin of 30 minutes
for every session cost the cost family (`python -m benchmarks.cost`) up to 9.6 % over
offline's bill on a rooftop-PV site, whose 1-phase EVs, planned to be done half an hour
early, bought at 0.30 what the sun would have given later. The session's own margin
brought the worst to 5.6 % (seeds 100, 12, and the shipped ones; 5.9 % on seeds 100, 40;
3.1 % from 5.0 % on seeds 300, 20; on seeds 200, 20, a congested PV day short of offline's
energy went from 14.3 % to 14.6 % at 0.15 kWh more), and the worst peak above offline's
where a demand charge prices it from 18.9 % to 16.5 % (17.4 % to 15.2 %; 23.4 % to 23.7 %;
15.8 % to 11.5 %), delivering as much on every one of those scenarios. With the tail rows
following the battery through each block, the share fell from 0.2 to 0.05 (see
`TAIL_MARGIN_SHARE`): pv-03's gap went from 5.6 % to 4.3 %; with an EV that has time to
spare waiting unprobed (`PROBE_LAXITY_S`), to 3.7 %; with blocks of at most an hour and
0.045 of the tail kept in hand (`PRICED_BLOCK_S`, `PRICED_TAIL_MARGIN_SHARE`), to 2.85 %.

What this achieves on the shipped scenarios and on the generated family, and what was
tried and not kept, with the commands that measure it: `scenarios/README.md`, "The
look-ahead on scenarios nobody tuned on".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from optimizer.admission import candidates
from optimizer.fairness import IntArray
from optimizer.parameters import SECONDS_PER_HOUR, BoolArray, FloatArray, Parameters
from optimizer.persistent import HIGHS, RUN_TIME_LIMIT_S, SOLVER_OPTIONS
from optimizer.problem import Lookahead, PowerPeriod, PricePeriod
from optimizer.warm_start import BASIC, KeyedBasis, among, keys

DEVEX = 1
"""HiGHS's `simplex_dual_edge_weight_strategy` for Devex pricing."""
FINE_BLOCKS = 12
"""Blocks of one step after the first: the next hour at the replay's 5-minute step."""
MAX_BLOCKS = 32
"""With doubling, 32 blocks of 5 minutes reach past any stay."""
TAIL_WH = 8_000.0
"""The last part of a need over which a battery is planned to take less and less."""
TAIL_END = 0.7
"""The share of its maximum a session is planned to take at the end of its need."""
DEVIATION_WEIGHT = 1e-3
"""Planned energy (per phase-ampere of the step) a deviation from the fair shares must gain:
the fair shares stand only where nothing else tells plans apart. At 0.02 (before issue
15's generalization) they ranked above serving those that leave first, and a bonus for
that (`LEAVING_WEIGHT`) below 0.02 could not move current now. At 1e-3 alone (no bonus,
no capacity held back for arrivals) the mean gap to offline was 0.23 and 0.14 points
against 0.27 and 0.15 at 0.02 (`python -m benchmarks.quality --count 40 --min-current 0
--battery ideal`, seeds 1000 and 3000)."""
PRICED_DEVIATION_WEIGHT = 0.02
"""With money, `DEVIATION_WEIGHT` instead, scaled below the money (`PRICE_RESOLUTION`):
there the fair shares spread what a cheap hour would otherwise put on a few sessions, and
at 1e-3 the cost family's worst peak above offline's (`python -m benchmarks.cost`) rose
from 11.1 % to 14.2 % (office-02)."""
EARLY_WEIGHT = 0.1
"""Bonus for energy in the first block over the last (falling linearly over the blocks),
below the energy term and above the deviation from the fair shares: the plan cannot see
arrivals, and capacity it counts on later they may take, while energy delivered now
nobody can take back; so of two plans of equal energy by the departures, the one that
delivers more now wins, even where it moves current off the fair shares (a 1-phase EV
holding a bottleneck phase that 3-phase EVs would use with its two idle phases beside
it). On the generated family (`python -m benchmarks.quality`, 0 A, seeds 0-39, before
the rounding change in `ems.rounding`) the mean gap to offline was 0.63 points at 1e-3,
0.51 at 0.05, 0.37 at 0.1 and 0.35 at 0.2, where one scenario fell 0.07 points below
LLF: energy now starts to outweigh energy the plan can still place later."""
FINISH_WEIGHT = 1e-2
"""Bonus for energy to a session with little left over one with much (up to this share of
the energy, falling with its need): between plans of (nearly) equal energy, the one that
finishes sessions. Raised, it fully serves more sessions with ideal batteries at no cost
in energy, but with tapering ones it costs energy: a session with little left is in its
battery's tail, which takes less than it is given. On the generated family (`python -m
benchmarks.quality --count 40 --min-current 0`, with the steps' currents held, see
`_Blocks.held`), seeds 1000 | 5000 with ideal batteries | 1000 tapering, mean gap to
offline / worst against max(EDF, LLF) / share of scenarios fully serving as many as EDF:
0.01 -0.14 / 0.00 / 95 % | -0.16 / -0.09 / 85 % | -0.28 / 0.00 / 92 %; 0.03 -0.14 / -0.04
/ 95 % | -0.16 / -0.04 / 88 % | -0.31 / 0.00 / 92 %; 0.1 -0.14 / -0.01 / 100 % | -0.16 /
-0.02 / 100 % | -0.34 / -0.16 / 100 % (residential-1010 0.6 points less); energy ranks
first, so it stays at 0.01. Again with raises the deadband held sent under binding limits
(`ems.rate_limit`), seeds 5000 ideal | 1000 tapering: 0.01 -0.13 / -0.01 / 85 % | -0.26
/ 0.00 / 95 %; 0.05 -0.13 / -0.02 / 90 % | -0.30 / 0.00 / 100 %; 0.1 -0.14 / -0.02 / 100 %
| -0.33 / -0.07 / 100 % (residential-1010 0.68 points less, residential-1022 0.41): a
session near its end was given room its battery did not take. With a session seen
tapering planned with its tail in the present step (`_Blocks.of`), seeds 5000 ideal |
1000 tapering: 0.01 -0.13 / -0.01 / 85 % | -0.20 / 0.00 / 95 %; 0.1 -0.14 / -0.02 / 100 %
| -0.24 / 0.00 / 100 % (with ideal batteries mixed-5019 0.24 points less, with tapering
ones residential-1010 0.28, mixed-1019 0.16). The bonus weighted by the share of its stay
a session needs at its maximum through its tail (none for one with time to spare), at
0.1: -0.13 / 0.00 / 92 % | -0.26 / 0.00 / 92 % (residential-1010 1.03 points less)."""
LEAVING_WEIGHT = 0.12
"""Bonus for energy to a session that leaves sooner (`leaving`): up to this share of the
energy, for one leaving now, falling linearly to none for the last to leave. What the
plan cannot see falls on the sessions still there: an arrival takes their capacity, a
building load that rises takes it, room that turns out free (a battery that takes its
need faster than planned, a load that falls) is theirs. So between plans of (nearly)
equal energy, serving first those that leave first loses least to a wrong forecast, as
the earliest-deadline and least-laxity rules do; the fair shares do worst there, as a
plan that shares now what the later leavers could take later leaves both short when the
later capacity is not there. On the generated family (`python -m benchmarks.quality
--count 40 --min-current 0 --battery ideal`, with `DEVIATION_WEIGHT` 1e-3 and no future
margin), seeds 1000 | 3000, mean gap to offline / worst against max(EDF, LLF) / share of
scenarios serving at least as many as EDF: 0 -0.23 / -0.23 / 80 % | -0.14 / -0.22 / 82
%; 0.01 -0.23 / -0.06 / 82 % | -0.13 / -0.28 / 85 %; 0.03 -0.21 / 0.00 / 88 % | -0.12 /
-0.21 / 92 %; 0.06 -0.20 / 0.00 / 90 % | -0.11 / -0.20 / 90 %; 0.12 -0.20 / 0.00 / 95 % |
-0.10 / -0.24 / 98 %; 0.2 -0.21 / -0.02 / 95 % | -0.09 / -0.24 / 98 %; 0.3 -0.21 / 0.00 /
95 % | -0.09 / -0.23 / 100 %. By the need's share of the stay instead of the departure,
at 0.03: -0.18 / -0.09 / 80 % | -0.12 / -0.28 / 82 %. With money too, it brought the
cost family's pv-03 (`python -m benchmarks.cost`) from 4.3 % over offline's bill to
3.1 %."""
PRICED_EARLY_WEIGHT = 1e-3
"""With money, the bonus for energy in the first block instead of `EARLY_WEIGHT`, far
below the fairness terms: money decides when energy is bought (a plan with money is
followed exactly, `PlanNow.priced`), and a bonus for now would outweigh a demand charge
that has only a step's share of the energy to weigh against."""
PRICED_BLOCK_S = 3600.0
"""With money, no block is longer than this (the fine blocks of one step, then doubling up
to an hour): a long block plans at the mean of the prices and of the building's load over
hours a plan with money must tell apart. On the cost family's office-02 (`python -m
benchmarks.cost`), with the blocks doubling to 320 minutes, the plan at 10:00 charged 56
kWh in its last block (16:15-21:35, at the evening's dear mean price) and at 10:20, the
block's edges moved on by 20 minutes, none: it raised the peak from 80.6 to 87.7 kW to buy
that energy at midday instead, and whether a kW of peak or a kWh at the evening's price
was cheaper flipped as the edges moved, step after step. Offline buys at 17 h at 0.26
and holds its peak at 81.1 kW. With blocks of at most an hour the worst peak above
offline's went from 11.1 % to 6.1 % (office-06; office-02 3.8 %; seeds 100, 12, and the
shipped scenarios), on the holdout seeds 300 and 500 (20 each) from 19.4 % to 9.3 % and
from 17.7 % to 6.2 %, the worst cost over offline's from 3.06 % to 3.07 %, 3.12 % to 2.97
% and 2.53 % to 3.09 % (pv-19 of seeds 500, which delivered 3.8 kWh more). Congested
office days, where not every session finishes, delivered up to 6.9 kWh more; a few
scenarios 0.01-0.11 kWh less (office-08, pv-07 of seeds 300). Blocks of at most 30
minutes or 15 read alike (office-02 +3.3 % and +3.5 %, office-day-ahead +5.4 % and +5.6 %
against +5.0 %). Without money the blocks double as before: there nothing tells one hour
from another but the departures."""
PRICED_MAX_BLOCKS = 48
"""With money, the most blocks a plan has (see `PRICED_BLOCK_S`): 13 of one step, three
doubling to an hour, then hours to about 34 hours ahead, the last block stretched to the
last departure."""
LOOKAHEAD_OPTIONS: dict[str, Any] = {
    **SOLVER_OPTIONS,
    "simplex_dual_edge_weight_strategy": DEVEX,
    "dual_simplex_cost_perturbation_multiplier": 0.0,
}
"""HiGHS's options for the plan. Most solves of a plan start from a basis (the last step's,
see `PlanMemory`, or the last solve's after tail rows or bounds changed): Devex pricing
instead of the dual steepest edge, whose weights are computed again for such a basis,
and no cost perturbation, which the dual simplex otherwise adds and then cleans up with
primal iterations at every solve. On the garage day's plans each took about a fifth off
(6.2 s to 5.1 s CPU for both; the workplace day's 1.12 s to 0.78 s), the plans the same.
Without presolve a cold solve took half the time, but it then broke a tie between two
plans of equal value the other way (`tests/optimizer/test_lookahead.py`, who charges at
the minimum), and a solve from a basis skips presolve anyway. `simplex_scale_strategy` 0
or 2, Dantzig pricing and the primal simplex were slower, the last twice as slow."""
MIN_NEED_WH = 1e-6
UNDECIDED_A = 1e-6
"""A current now further than this from 0 and from the minimum is a choice left open."""
TAIL_ROUNDS = 2
"""Rounds of adding the battery-tail rows a plan breaks; the plan after them is kept. Up to
eight rounds changed the replays of `small` and the garage by at most 0.01 kWh."""
TAIL_TOLERANCE_A = 1e-6
"""A plan over its battery tail by less than this (solver noise) breaks no tail row."""
NOW_SLACK_A = 1e-4
"""Room the plan leaves on every row now, so that its currents raised to their exact
minimums (they hold them only to the solver's tolerance) still fit."""
UNBOUND_ROW_A = 1e-6
"""A row template's row in a block is left out of the plan where its sessions at their
most take at least this much less than it holds (`_template_rows`)."""
DEADLINE_MARGIN_S = 1800.0
"""With money, the most time a session is planned to be done before it leaves (see
`deadline_margins`): a plan that waits for a cheap hour must not count on the last
minutes, which the EV's real taper and newcomers' shares take from it. Kept for every
session on crowded rows. Given to every session alike (before issue 17), a sweep on the
cost family's pv-03 read: 0 s lost 4.2 kWh (the probe off as well; 3.4 kWh with it on),
900 s lost 1.1 kWh at +3.5 % over offline's cost, 1800 s lost nothing at +9.6 %, 3600 s
+20.9 %."""
TAIL_MARGIN_SHARE = 0.05
"""Without money, a session is planned to be done this share of the time its remaining
tail takes at its taper before it leaves (at most `DEADLINE_MARGIN_S`): 8 minutes for a
1-phase 16 A EV with the whole tail ahead, 3 for a 3-phase one, 1 at 32 A (with money, on
rows not crowded, `PRICED_TAIL_MARGIN_SHARE`).
The model's tail (`TAIL_WH`, `TAIL_END`) is close to the simulated battery's; what is left
to keep in hand is the difference between the two, and the plan's currents being means
over blocks. It was 0.2 while the tail rows held a block's current to the battery's
maximum at the block's start (`tail_weights`), which planned a tail in the long blocks at
the end too fast: at 0 then, the cost family's pv-03 (`python -m benchmarks.cost`) lost
3.4 kWh, at 0.1 1.1 kWh; 0.2 lost nothing on the family (seeds 100, 40, and the shipped
ones) at 5.6 % over offline's bill on pv-03. With the tail rows following the battery
through each block, pv-03 read: 0 lost 0.17 kWh at +2.2 % over offline's bill (pv-09
0.35 kWh), 0.02 lost 0.02 kWh at +3.0 %, 0.05 lost nothing at +4.3 %, 0.1 +6.5 %, 0.2
+11.4 %. At 0.05 the family (seeds 100, 12, 300 and 500, 20 each, and the shipped
ones) delivers as much as at 0.2 with the old rows but on congested office days, where
the plan already chooses whom to leave short (office-08: 1.0 kWh less of 9.3 short)."""
PRICED_TAIL_MARGIN_SHARE = 0.045
"""With money, `TAIL_MARGIN_SHARE` instead: a plan with money waits for cheap hours and so
plans more of a session's tail late in its stay, where its blocks are now at most an hour
(`PRICED_BLOCK_S`) rather than doubling to several, so less of what it keeps in hand goes
to a block's mean overstating what a filling battery takes in it. On the cost family
(`python -m benchmarks.cost`, with the hour-long blocks) pv-03 went from +3.07 % over
offline's bill to +2.85 %, the worst of seeds 300 (20) from +2.97 % to +2.81 %; at 0.04
pv-03 read +2.54 %, but a session of the shipped office-day-ahead ended 9 Wh short of its
need (0.042: 3 Wh), where every baseline serves it in full. Against 0.05 no scenario of
those runs (seeds 100, 12, and the shipped ones; 300 and 500, 20 each) delivered more
than 0.05 kWh less (office-04 of seeds 500)."""
CROWDED_FROM = 2.0
"""Rows are crowded when the planned sessions at their maximum and every empty connector at
its own would take more than this many times what is free on one of them (see
`crowding`): there newcomers' shares can take the last minutes, and the margin rises
linearly from the session's own to `DEADLINE_MARGIN_S` at one more. Congested office days
(office-38 of seeds 100) delivered up to 1.3 kWh less without it, the margin the session's
own throughout; from 1.0 (full at 2.0) the worst cost over offline was 7.7 %, from 1.5
6.3 %, from 2.0 5.9 % (seeds 100, 40), each delivering as much as before on every
scenario (from 2.0 on seeds 200 and 300, 20 each, too; from 1.5 one scenario of seeds 200
delivered 0.05 kWh less)."""
PROBE_A = 3.0
"""Nor on phases it has not seen the EV draw on: with money, an EV charges at its minimum
(at least this) until it has been seen drawing, before it may wait (one that waited on
the plan of a 3-phase EV and turned out 1-phase could not finish), unless it has time to
spare as a 1-phase EV (`PROBE_LAXITY_S`). Without money, an EV on a connector of more
than one phase whose minimum is at most this charges at least this until its phases are
seen: planned on every phase of its connector, a 1-phase EV got nothing for hours while
its own phase had room, when the site's busiest phase was full.
Above the controller's `ev_phase_detect_a` (2 A), so that the probe shows the phases (at
1 A it never did). On the generated family (`python -m benchmarks.quality --count 40
--seed 1000 --min-current 0`) the mean gap to offline went from 0.57 to 0.45 points, the
worst residential scenario's from 5.13 to 3.45, no scenario losing more than 0.01 points;
at a 6 A minimum nothing changes (a probe there would be a whole minimum)."""
PROBE_LAXITY_S = 3600.0
"""With money, an EV not yet seen drawing may wait unprobed while, drawing on one phase at
its maximum, it would still have this much time to spare (and the rows are not crowded,
see `probed`): probed later, a 1-phase EV still finishes, and the probe is not bought
before the sun or the cheap hours come. Every arrival probed at once, the cost family's
PV sites bought each probe at the import price in the morning: with this, pv-03 (`python
-m benchmarks.cost`) went from +4.3 % to +3.7 % over offline's bill, rooftop-pv from
+1.0 % to +0.3 %, office-day-ahead's peak from +10.0 % to +7.6 % above offline's
(office-04's from +5.3 % to +6.7 %), delivering as much on every scenario of seeds 100,
12 and the shipped ones, 300 and 500, 20 each. On crowded rows too (an hour to spare on
one phase), seeds 300 delivered up to 1.9 kWh less (office-06)."""
PRESENT_FLOOR = 0.05
"""A session there for less of a block than this is counted in the peak row as if it
drew over this share of it, and in its tail row as if it were there that long: its
current there is at most that share of its maximum, so the rate is understated by less
than its maximum, and the rows keep no huge coefficient."""
MONEY_WEIGHT = 0.25
"""The most money (the dearest energy, or a phase-ampere of peak over one step) may weigh
against the energy it buys: below 1, no plan gives up energy to save money."""
PRICE_RESOLUTION = 0.05
"""With prices, a difference of this share of the dearest price outweighs the fairness
terms (deviation from the fair shares, earliness)."""
WH_PER_PHASE_AMP_SECOND_PER_V = 1.0 / SECONDS_PER_HOUR
KW_PER_W = 1e-3
MIN_DIVISOR = 1e-9
"""Floor of a divisor that may be 0 (a row with nothing free, a session with no maximum):
the quotient becomes huge, which is what it means, rather than a division by zero."""


@dataclass(frozen=True)
class PlanNow:
    """`current_a` (N,): each connector's current for now, 0 or at least its minimum for
    the sessions `in_plan` (see `planned`), the fair share for the others. `priced`: the
    plan weighed money, so the sessions in it get no more than planned now (more now
    would be energy bought at a dearer hour than the plan chose)."""

    in_plan: BoolArray
    current_a: FloatArray
    priced: bool = False


def plan_now(
    params: Parameters,
    rows: FloatArray,
    fair_a: FloatArray,
    lookahead: Lookahead,
    memory: PlanMemory,
) -> PlanNow | None:
    """The plan for now; None when no session is planned, when every planned session fits
    at its maximum now and money does not make one hour better than another (there is
    nothing to choose), or when the LP has no optimal solution (the caller keeps the fair
    shares)."""
    now_s = lookahead.start.timestamp()
    in_plan = planned(params, now_s)
    sessions = np.flatnonzero(in_plan)
    if not len(sessions):
        return None
    others = np.ones(len(fair_a), dtype=bool)
    others[sessions] = False
    # einsum, not `@`: see the note on BLAS threads in `assemble`
    free = params.row_rhs[0] - np.einsum("kn,n->k", rows[:, others], fair_a[others])
    at_most = np.einsum("kn,n->k", rows[:, sessions], params.cap_a[sessions])
    last_s = float(params.departure_s[sessions].max())
    others_phase_amps = float(np.dot(params.phase_count[others], fair_a[others]))
    edges = _block_edges(now_s, lookahead.step_s, last_s)
    money = None
    if lookahead.has_money:
        priced = _block_edges(now_s, lookahead.step_s, last_s, PRICED_BLOCK_S, PRICED_MAX_BLOCKS)
        money = _Money.of(params, lookahead, priced, others_phase_amps)
        edges = edges if money is None else priced
    if money is None and np.all(at_most <= free - NOW_SLACK_A):
        return None
    if money is None:
        cheap = params.min_a[sessions] <= PROBE_A
        margin_s = deadline_margins(params, sessions, 0.0)
        probe = cheap & (params.phase_count[sessions] > 1)
        blocks = _Blocks.of(params, sessions, edges, margin_s, probe=probe)
    else:
        crowded = crowding(params, rows, free, at_most)
        margin_s = deadline_margins(params, sessions, crowded, PRICED_TAIL_MARGIN_SHARE)
        probe = probed(params, sessions, now_s, crowded)
        blocks = _Blocks.of(params, sessions, edges, margin_s, probe=probe)
    key = _Key(sessions.astype(np.int64), rows.shape)
    solution = _solve(
        blocks, rows[:, sessions], free, fair_a[sessions], lookahead.step_s, money, memory, key
    )
    if solution is None:
        return None
    current = fair_a.copy()
    current[sessions] = solution
    return PlanNow(in_plan, current, priced=money is not None)


def planned(params: Parameters, now_s: float) -> BoolArray:
    """Candidates that stated a need and a departure still ahead."""
    with np.errstate(invalid="ignore"):
        return (
            candidates(params)
            & np.isfinite(params.departure_s)
            & (params.departure_s > now_s)
            & np.isfinite(params.need_wh)
            & (params.need_wh > MIN_NEED_WH)
        )


def deadline_margins(
    params: Parameters, sessions: IntArray, crowded: float, own_share: float = TAIL_MARGIN_SHARE
) -> FloatArray:
    """(M,) how long before it leaves each of `sessions` is planned to be done.

    Its own margin is `own_share` (with money `PRICED_TAIL_MARGIN_SHARE`, else
    `TAIL_MARGIN_SHARE`) of the time its remaining tail (at most
    `TAIL_WH` of its need) takes at the planned taper, at its maximum now: what the real
    taper can take beyond the plan grows with that time (8 minutes for a 1-phase 16 A EV;
    1 at 32 A on three phases). On crowded rows (`crowded` from `crowding` above
    `CROWDED_FROM`) newcomers' shares can take the last minutes as well, and the margin
    rises to `DEADLINE_MARGIN_S`; never above it. A plan without money, which does not
    wait for a cheap hour, passes `crowded` 0: it keeps only the session's own margin."""
    power_w = np.maximum(params.cap_a[sessions] * params.phase_count[sessions], MIN_DIVISOR)
    tail_wh = np.minimum(params.need_wh[sessions], TAIL_WH)
    tail_s = tail_wh / (power_w * params.voltage_v) * SECONDS_PER_HOUR * taper()
    own = np.minimum(own_share * tail_s, DEADLINE_MARGIN_S)
    share = float(np.clip(crowded - CROWDED_FROM, 0.0, 1.0))
    return np.asarray(own + share * (DEADLINE_MARGIN_S - own), dtype=np.float64)


def taper() -> float:
    """How many times as long as at its maximum the planned tail takes a battery through its
    energy: ln(1 / e) / (1 - e), its rate falling linearly in the energy left to e =
    `TAIL_END` of the top; 1 without a tail."""
    if TAIL_END >= 1.0:
        return 1.0
    return math.log(1.0 / TAIL_END) / (1.0 - TAIL_END)


def probed(params: Parameters, sessions: IntArray, now_s: float, crowded: float) -> BoolArray:
    """(M,) which of `sessions` are probed now, with money, if their EV has not been seen
    drawing (`PROBE_A`): those that, drawing on one phase at their maximum and through the
    planned taper, would have less than `PROBE_LAXITY_S` to spare before they leave, and
    every one on crowded rows (`crowded` from `crowding` above `CROWDED_FROM`), where
    newcomers can take the room a late start would need."""
    if crowded > CROWDED_FROM:
        return np.ones(len(sessions), dtype=bool)
    one_phase_w = np.maximum(params.cap_a[sessions] * params.voltage_v, MIN_DIVISOR)
    need_wh = params.need_wh[sessions]
    slow_wh = need_wh + np.minimum(need_wh, TAIL_WH) * (taper() - 1.0)
    spare_s = params.departure_s[sessions] - now_s - slow_wh / one_phase_w * SECONDS_PER_HOUR
    return np.asarray(spare_s < PROBE_LAXITY_S)


def crowding(params: Parameters, rows: FloatArray, free: FloatArray, at_most: FloatArray) -> float:
    """How many times what is free now on its most crowded row the planned sessions at their
    maximum (`at_most`, per row) and every empty connector at its own would take: below 1,
    no newcomer can take a share from them. `free` is what the others leave of each row."""
    empty = ~params.present
    newcomers = np.einsum("kn,n->k", rows[:, empty], params.cap_a[empty])
    wanted = at_most + newcomers
    return float(np.max(wanted / np.maximum(free, MIN_DIVISOR), initial=0.0))


def _block_edges(
    now_s: float,
    step_s: float,
    last_departure_s: float,
    longest_s: float = math.inf,
    most: int = MAX_BLOCKS,
) -> FloatArray:
    """The blocks' edges (POSIX seconds) from now to the last departure: the step now,
    `FINE_BLOCKS` more of one step, then blocks doubling in length up to `longest_s` (but
    never shorter than a step), at most `most` blocks, the last one stretched to the last
    departure."""
    edges = [now_s, now_s + step_s]
    length = step_s
    while edges[-1] < last_departure_s and len(edges) <= most:
        edges.append(edges[-1] + length)
        if len(edges) > FINE_BLOCKS + 1:
            length = min(2.0 * length, max(longest_s, step_s))
    edges[-1] = max(edges[-1], last_departure_s)
    return np.asarray(edges)


def block_means(edges: FloatArray, starts: FloatArray, values: FloatArray) -> FloatArray:
    """(B,) the mean over each block between `edges` (POSIX seconds) of the step function
    that is `values[i]` from `starts[i]` on (the first value holds before its start too)."""
    # integral(t) = area before the period t falls in + its value × the time into it
    # (differences spelled out, no `np.clip`: this runs several times a step on short arrays)
    areas = np.zeros(len(starts))
    np.cumsum(values[:-1] * (starts[1:] - starts[:-1]), out=areas[1:])
    index = np.maximum(np.searchsorted(starts, edges, side="right") - 1, 0)
    integral = areas[index] + values[index] * (edges - starts[index])
    return np.asarray((integral[1:] - integral[:-1]) / (edges[1:] - edges[:-1]), dtype=np.float64)


def _block_prices(edges: FloatArray, prices: tuple[PricePeriod, ...]) -> FloatArray:
    starts = np.asarray([p.start.timestamp() for p in prices], dtype=np.float64)
    return block_means(edges, starts, np.asarray([p.price_per_kwh for p in prices]))


def power_series(periods: tuple[PowerPeriod, ...]) -> tuple[FloatArray, FloatArray]:
    """The periods' starts (POSIX seconds) and powers (W), read once for every block mean
    taken of them: a forecast holds a period per slot to the last departure, and reading
    a start is the costly part."""
    starts = np.asarray([p.start.timestamp() for p in periods], dtype=np.float64)
    return starts, np.asarray([p.power_w for p in periods])


def _block_surplus(
    edges: FloatArray,
    base: tuple[FloatArray, FloatArray],
    voltage_v: float,
    others_phase_amps: float,
) -> FloatArray:
    """(B,) the mean over each block of what the site would export (phase-amperes, 0 while
    it imports) besides the planned sessions, `base` its import besides all our chargers
    (`power_series`)."""
    starts, power_w = base
    import_a = power_w / voltage_v + others_phase_amps
    return block_means(edges, starts, np.maximum(-import_a, 0.0))


@dataclass(frozen=True)
class _Money:
    """The money terms of a plan, in objective units per its unit (see the module notes).

    `energy` (B,) per phase-ampere-second in each block; `peak` per phase-ampere of the
    highest site import; `peak_floor` the phase-amperes already paid for, `base` (B,)
    those the site imports besides the planned sessions (negative while it exports);
    `surplus_value` (B,) per phase-ampere-second taken from an export instead of the grid;
    `fairness` the factor on the fairness terms.
    """

    energy: FloatArray
    peak: float
    peak_floor: float
    base: FloatArray
    surplus_value: FloatArray
    fairness: float
    surplus: FloatArray
    """(B,) the mean phase-amperes the site would export without the planned sessions:
    the mean of the export, not the export of the mean, so that a long block in which the
    sun sets (an afternoon's surplus, an evening's import) still offers its surplus."""

    @staticmethod
    def of(
        params: Parameters, lookahead: Lookahead, edges: FloatArray, others_phase_amps: float
    ) -> _Money | None:
        """The money terms, None without any; `others_phase_amps` what the sessions
        outside the plan draw now."""
        if not lookahead.has_money:
            return None
        voltage = params.voltage_v
        price = np.zeros(len(edges) - 1)
        if lookahead.prices:
            price = _block_prices(edges, lookahead.prices)
        euro_per_phase_amp_s = price * voltage * WH_PER_PHASE_AMP_SECOND_PER_V / 1000.0
        base = np.full(len(edges) - 1, others_phase_amps)
        if lookahead.base_import:
            series = power_series(lookahead.base_import)
            base += block_means(edges, *series) / voltage
            surplus = _block_surplus(edges, series, voltage, others_phase_amps)
        else:
            base += float(params.base_a[0].sum())
            surplus = np.maximum(-base, 0.0)
        export = lookahead.export_price_per_kwh * voltage * WH_PER_PHASE_AMP_SECOND_PER_V / 1000.0
        forgone = np.maximum(euro_per_phase_amp_s - export, 0.0)
        euro_per_peak_phase_amp = lookahead.peak_price_per_kw * voltage * KW_PER_W
        dearest = float(np.abs(euro_per_phase_amp_s).max(initial=0.0))
        scales = []
        if dearest > 0.0:
            scales.append(MONEY_WEIGHT / dearest)
        if euro_per_peak_phase_amp > 0.0:
            scales.append(MONEY_WEIGHT * lookahead.step_s / euro_per_peak_phase_amp)
        if not scales:
            return None
        per_euro = min(scales)
        fairness = 1.0
        if dearest > 0.0:
            fairness = min(1.0, PRICE_RESOLUTION * per_euro * dearest / PRICED_DEVIATION_WEIGHT)
        return _Money(
            energy=per_euro * euro_per_phase_amp_s,
            peak=per_euro * euro_per_peak_phase_amp,
            peak_floor=lookahead.peak_so_far_w / voltage,
            base=base,
            surplus_value=per_euro * forgone if lookahead.prices else np.zeros_like(base),
            fairness=fairness,
            surplus=surplus,
        )


@dataclass(frozen=True)
class _Blocks:
    """The planned sessions over the blocks: M sessions, B blocks."""

    length: FloatArray
    """(B,) seconds."""
    present: FloatArray
    """(B, M) the part of each block before the session leaves."""
    held: BoolArray
    """(B,) the blocks of one step: the current planned there is held through the step (the
    controller sets it once a step), so a session leaving within the block draws it for
    the part it is there and takes its room on the rows for all of the block. A later
    block's current is a mean over the block, and its rows hold the means: the steps
    within it re-plan the room a session leaves behind."""
    drawn: FloatArray
    """(B, M) the seconds each session draws its current in each block: the held blocks'
    for the part it is there (in the first block by its stated departure, which a margin
    does not move: see `_Blocks.of`), a later block's for all of it (its mean)."""
    worth: FloatArray
    """(B, M) the seconds of energy each session's current is valued at in each block: what
    it draws, but all of the first block for a session that can finish its need in the
    part of it before it leaves. Finishing ranks above the room it leaves unused for the
    rest of the step (at most its current for less than a step): valued at what it draws,
    a session in its last minutes a step short of its need, as a battery's taper leaves
    many, was given nothing and left unserved."""
    phases: FloatArray
    cap: FloatArray
    minimum: FloatArray
    need: FloatArray
    """(M,) phase-ampere-seconds."""
    draw_phases: FloatArray
    """(M,) the phases each session is counted on in the site's peak (the connector's
    until the EV's are seen)."""
    probe_a: FloatArray
    """(M,) the least each session charges now: with money, an EV not yet seen drawing
    charges at its minimum (at least `PROBE_A`) before it may wait, else 0."""
    finishing: FloatArray
    """(M,) the value of energy to each session, 1 plus up to `FINISH_WEIGHT` for one with
    little left and up to `LEAVING_WEIGHT` for one that leaves soon (`leaving`)."""
    tail_slope: FloatArray
    """(M,) how much the maximum falls per phase-ampere-second taken in the tail."""
    tail_rhs: FloatArray
    """(M,) the tail rows' right-hand side, cap (TAIL_END + (1 - TAIL_END) need / tail):
    what the battery takes with its whole need still to go (`tail_weights`)."""
    tail_weight: FloatArray
    """(B, M) the weight of a session's current in its tail row in each block (see
    `tail_weights`)."""
    now_cap: FloatArray
    """(M,) the most worth giving now: the maximum, or the current that meets the need
    within the part of the first block before the session leaves if less (but never below
    the minimum). Above it the EV stops by itself, so a plan must not count it as
    energy."""

    @staticmethod
    def of(
        params: Parameters,
        sessions: IntArray,
        edges: FloatArray,
        margin_s: FloatArray | float = 0.0,
        probe: bool | BoolArray = False,
    ) -> _Blocks:
        """`margin_s` (M,) or one for all: plan each session to be done this long before it
        leaves (but never before the end of the first block). `probe` (M,) or one for all:
        an EV not yet seen drawing charges at its minimum now, at least `PROBE_A`."""
        length = np.diff(edges)
        departure = np.maximum(params.departure_s[sessions] - margin_s, edges[1])
        unseen = ~params.phases_seen[sessions] & probe
        cap = params.cap_a[sessions]
        tail = TAIL_WH * SECONDS_PER_HOUR / params.voltage_v
        need = params.need_wh[sessions] * SECONDS_PER_HOUR / params.voltage_v
        phases = params.phase_count[sessions]
        minimum = params.min_a[sessions]
        present = np.clip((departure[None, :] - edges[:-1, None]) / length[:, None], 0.0, 1.0)
        held = length <= length[0] * (1.0 + MIN_DIVISOR)
        drawn = length[:, None] * np.where(held[:, None], present, 1.0)
        stay = params.departure_s[sessions] - edges[0]
        drawn[0] = length[0] * np.clip(stay / length[0], PRESENT_FLOOR, 1.0)
        finishing_a = need / (drawn[0] * phases)
        worth = drawn.copy()
        worth[0] = np.where(finishing_a <= cap, length[0], drawn[0])
        now_cap = np.minimum(present[0] * cap, np.maximum(finishing_a, minimum))
        slope = cap * (1.0 - TAIL_END) / tail
        weight = tail_weights(length, present, phases * slope, held)
        to_finish = need / (phases * np.maximum(stay, length[0]))
        tail_rhs = cap * TAIL_END + slope * need
        tail_now = np.maximum(tail_rhs / weight[0], minimum)
        tail_now = np.maximum(tail_now, to_finish)
        now_cap = np.where(params.tapering[sessions], np.minimum(now_cap, tail_now), now_cap)
        probe_a = np.where(unseen, np.minimum(np.maximum(minimum, PROBE_A), now_cap), 0.0)
        return _Blocks(
            length=length,
            present=present,
            held=held,
            drawn=drawn,
            worth=worth,
            phases=phases,
            cap=cap,
            minimum=minimum,
            need=need,
            draw_phases=params.phase_count[sessions],
            probe_a=probe_a,
            finishing=1.0 + FINISH_WEIGHT * tail / (tail + need) + leaving(departure, edges[0]),
            tail_slope=slope,
            tail_rhs=tail_rhs,
            tail_weight=weight,
            now_cap=now_cap,
        )

    @property
    def shape(self) -> tuple[int, int]:
        blocks, m = self.present.shape
        return blocks, m

    def at_most(self) -> FloatArray:
        """(B, M) the most each session's current may be in each block: its maximum in the
        held blocks it is there in, the maximum for the part it is there as a later
        block's mean, and `now_cap` now."""
        there = np.where(self.present > 0.0, 1.0, 0.0)
        bound = self.cap[None, :] * np.where(self.held[:, None], there, self.present)
        bound[0] = self.now_cap
        return np.asarray(bound, dtype=np.float64)


def _solve(
    blocks: _Blocks,
    members: FloatArray,
    free: FloatArray,
    fair_a: FloatArray,
    step_s: float,
    money: _Money | None,
    memory: PlanMemory,
    key: _Key,
) -> FloatArray | None:
    """The first block's currents of the planned sessions (`blocks`), or None. `members`
    (K, M) are their columns of the rows, `free` (K,) what the others leave of each row
    now, `fair_a` (M,) their fair shares now. The solve starts from the basis `memory` kept
    of the last plan (mapped by the plan's `key`) and leaves its own for the next."""

    def new_lp() -> _Lp:
        highs = memory.empty_highs()
        return _Lp(highs, blocks, _build(highs, blocks, members, free, fair_a, step_s, money))

    lp = new_lp()
    warm = memory.start(lp, key)
    solved = _run(lp)
    if not solved and warm:
        # a start HiGHS could not finish from (none seen in the replays): solve cold
        # rather than fall back to the fair shares
        lp = new_lp()
        solved = _run(lp)
    memory.keep(lp, key, solved)
    if not solved:
        return None
    return _round(lp)


@dataclass(frozen=True)
class _Shape:
    """What `_build` laid out beyond the blocks: the template and block of each template
    row (in order, see `_template_rows`), whether there is a peak column (and rows), and
    the first surplus column if any."""

    row_template: IntArray
    row_block: IntArray
    peak: bool
    surplus: int | None


class _Lp:
    """The plan's HiGHS model, its blocks and shape, and the tail rows added so far."""

    def __init__(self, highs: Any, blocks: _Blocks, shape: _Shape) -> None:
        self.highs = highs
        self.blocks = blocks
        self.shape = shape
        self.tail_block: list[IntArray] = []
        self.tail_session: list[IntArray] = []
        self.settled = False
        """The last `_run` left an optimal plan that breaks no battery-tail row: solving
        again, with nothing changed, would give the same plan."""
        self.currents: FloatArray = np.zeros(blocks.shape)
        """(B, M) the currents of the last optimal solve, read from HiGHS once for both
        the battery-tail check and the plan now."""

    def add_tail(self, block: IntArray, session: IntArray) -> None:
        """The battery-tail rows of `session`s in `block`s (see `_tail_rows`)."""
        if len(block):
            _tail_rows(self.blocks, block, session).pass_to(self.highs)
            self.tail_block.append(block)
            self.tail_session.append(session)

    def col_keys(self, owner: IntArray, block: IntArray) -> IntArray:
        """Keys (`optimizer.warm_start`) of the columns in order; `owner` (M,) names each
        session, `block` (B,) each block."""
        parts = [
            keys(_X, owner[None, :], block[:, None]).ravel(),
            keys(_DEV_UP, owner, 0),
            keys(_DEV_DOWN, owner, 0),
        ]
        if self.shape.peak:
            parts.append(keys(_PEAK, 0, np.zeros(1, dtype=np.int64)))
        if self.shape.surplus is not None:
            parts.append(keys(_SURPLUS, 0, block))
        return np.concatenate(parts)

    def row_keys(self, owner: IntArray, block: IntArray) -> IntArray:
        """Keys of the rows in order, as `col_keys`."""
        parts = [
            keys(_TEMPLATE, self.shape.row_template, block[self.shape.row_block]),
            keys(_NEED, owner, 0),
            keys(_DEVIATION, owner, 0),
        ]
        if self.shape.peak:
            parts.append(keys(_PEAK, 0, block))
        if self.shape.surplus is not None:
            parts.append(keys(_SURPLUS, 0, block))
        if self.tail_block:
            tail_block = np.concatenate(self.tail_block)
            tail_session = np.concatenate(self.tail_session)
            parts.append(keys(_TAIL, owner[tail_session], block[tail_block]))
        return np.concatenate(parts)


_X, _DEV_UP, _DEV_DOWN, _PEAK, _SURPLUS, _TEMPLATE, _NEED, _DEVIATION, _TAIL = range(9)
"""Kinds of the plan's columns and rows in their keys (a peak or surplus column and its
rows are told apart by which list they are in)."""


@dataclass(frozen=True)
class _Key:
    """What names a plan's parts from step to step: each planned session's connector, and
    the problem's size (row templates, connectors), without which connectors and row
    templates are not the same from one step to the next."""

    sessions: IntArray
    size: tuple[int, ...]


@dataclass(frozen=True)
class _Last:
    """A solved plan as the next one starts from it."""

    key: _Key
    blocks: int
    basis: KeyedBasis
    tail_owner: IntArray
    """The connectors of the sessions whose tail rows bound the plan, `tail_block` the
    blocks where."""
    tail_block: IntArray


class PlanMemory:
    """The last plan's basis, for the next plan to start from (see the module notes).

    Held by whoever plans step after step (`optimizer.solver.Solver`), so that `plan_now`
    stays a function of what it is given."""

    def __init__(self) -> None:
        self._last: _Last | None = None
        self._highs: Any = None

    def empty_highs(self) -> Any:
        """A HiGHS instance with `LOOKAHEAD_OPTIONS` and no model, for the next plan: one
        instance cleared from plan to plan (`clearModel` drops the model, its basis and
        solution, and keeps the options), as making a new one, setting its options and
        freeing the last one's model cost more than the clearing. HiGHS counts its
        `time_limit` against the run time the instance has summed over every run, so
        the limit is moved on to `RUN_TIME_LIMIT_S` past it: the plan's runs together
        have that long, as in a new instance."""
        if self._highs is None:
            self._highs = HIGHS()
            for name, option in LOOKAHEAD_OPTIONS.items():
                self._highs.setOptionValue(name, option)
        else:
            self._highs.clearModel()
            limit = self._highs.getRunTime() + RUN_TIME_LIMIT_S
            self._highs.setOptionValue("time_limit", limit)
        return self._highs

    def start(self, lp: _Lp, key: _Key) -> bool:
        """Give `lp` the tail rows that bound the last plan and the last plan's basis, by
        session and block index (see the module notes); False if there is none to give."""
        last = self._last
        if last is None or last.key.size != key.size:
            return False
        block = np.arange(lp.blocks.shape[0], dtype=np.int64)
        block[block >= last.blocks] = -1
        old_tails = keys(_TAIL, last.tail_owner, last.tail_block)
        wanted = keys(_TAIL, key.sessions[None, :], block[1:, None])
        carried = among(wanted, old_tails) & (lp.blocks.present[1:] > 0.0)
        tail_block, tail_session = np.nonzero(carried)
        lp.add_tail(tail_block + 1, tail_session)
        return last.basis.start(
            lp.highs, lp.col_keys(key.sessions, block), lp.row_keys(key.sessions, block)
        )

    def keep(self, lp: _Lp, key: _Key, solved: bool) -> None:
        """Remember `lp`'s basis if it `solved`; forget the last one otherwise."""
        self._last = None
        if not solved:
            return
        block = np.arange(lp.blocks.shape[0], dtype=np.int64)
        basis = KeyedBasis.of(
            lp.highs, lp.col_keys(key.sessions, block), lp.row_keys(key.sessions, block)
        )
        if basis is None:
            return
        tail_block = np.concatenate(lp.tail_block or [np.zeros(0, dtype=np.int64)])
        tail_session = np.concatenate(lp.tail_session or [np.zeros(0, dtype=np.int64)])
        binding = basis.status_of(keys(_TAIL, key.sessions[tail_session], tail_block)) != BASIC
        self._last = _Last(
            key,
            lp.blocks.shape[0],
            basis,
            key.sessions[tail_session[binding]],
            tail_block[binding],
        )


def _round(lp: _Lp) -> FloatArray:
    """The relaxed plan's currents now, rounded to the minimums (`_decide`)."""
    relaxed = _now(lp)
    minimum = lp.blocks.minimum
    undecided = (minimum > 0.0) & (relaxed > UNDECIDED_A) & (relaxed < minimum - UNDECIDED_A)
    if not undecided.any():
        return relaxed
    return _decide(lp, relaxed, undecided)


def _run(lp: _Lp) -> bool:
    """Solve, adding the battery-tail rows the plan breaks until it breaks none (at most
    `TAIL_ROUNDS` times; each re-solve starts from the last basis). False if not optimal.

    Stating every session's tail in every block up front (a column per block for the
    energy taken) made the workplace day's replay about a fifth slower than this."""
    lp.settled = False
    for _ in range(TAIL_ROUNDS):
        if not _solved(lp):
            return False
        broken = _broken_tail(lp.currents, lp.blocks)
        if broken is None:
            lp.settled = True
            return True
        lp.add_tail(*broken)
    return _solved(lp)


def _solved(lp: _Lp) -> bool:
    """Solve once; keep the currents (`_Lp.currents`) if the plan is optimal."""
    highs = lp.highs
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return False
    count, m = lp.blocks.shape
    solution = np.asarray(highs.getSolution().col_value[: count * m], dtype=np.float64)
    lp.currents = solution.reshape(count, m)
    return True


def _now(lp: _Lp) -> FloatArray:
    """The last optimal plan's currents now, within 0 and each session's maximum."""
    return np.asarray(np.minimum(np.maximum(lp.currents[0], 0.0), lp.blocks.cap))


def _decide(lp: _Lp, relaxed: FloatArray, undecided: BoolArray) -> FloatArray:
    """Round the relaxed plan to the minimums now: each decided session is held on its
    side of its minimum; the undecided ones, nearest their minimum first, are each held on
    (from its minimum to the most worth giving it now) or off (0 A), whichever plan is
    better (`_choose`). Each try re-solves from the last basis, with only bounds changed.

    The plan kept for one session is the best with the later ones still open: a later one
    it already holds at 0 or at least its minimum is held there without a try (no plan
    with it on the other side is better). Where the plan kept is the last solved and
    settled (`_Lp.settled`), it is the answer; else the model is solved once more."""
    highs, blocks = lp.highs, lp.blocks
    minimum, cap = blocks.minimum, blocks.now_cap
    bound = highs.getInfo().objective_function_value
    decided = np.flatnonzero(~undecided & (minimum > 0.0))
    on = relaxed[decided] >= minimum[decided] - UNDECIDED_A
    _bound(highs, decided, np.where(on, minimum[decided], 0.0), np.where(on, cap[decided], 0.0))
    order = sorted(np.flatnonzero(undecided).tolist(), key=lambda j: minimum[j] - relaxed[j])
    plan: FloatArray | None = relaxed
    for j in order:
        if plan is not None and not _open(plan[j], minimum[j]):
            side = plan[j] > UNDECIDED_A
            _bound(highs, np.asarray([j]), *_side(blocks, j, on=side))
            continue
        now = relaxed[j] if plan is None else plan[j]
        bound, plan = _choose(lp, j, now, bound)
    if plan is not None:
        return plan
    if not _run(lp):
        # Pausing every undecided session keeps the relaxed plan within every row.
        return np.where(undecided, 0.0, relaxed)
    return _now(lp)


def _open(current_a: float, minimum_a: float) -> bool:
    """A current now strictly between 0 and the minimum (see `UNDECIDED_A`)."""
    return UNDECIDED_A < current_a < minimum_a - UNDECIDED_A


def _side(blocks: _Blocks, j: int, *, on: bool) -> tuple[FloatArray, FloatArray]:
    """The bounds of session `j` now on its side of its minimum: from the minimum to the
    most worth giving it now, or 0."""
    if on:
        return np.asarray([blocks.minimum[j]]), np.asarray([blocks.now_cap[j]])
    return np.zeros(1), np.zeros(1)


def _choose(lp: _Lp, j: int, relaxed_a: float, bound: float) -> tuple[float, FloatArray | None]:
    """Hold session `j` on or off, whichever plan is better (on where both are tried and
    tie). Returns the chosen plan's objective (the bound for the next session) and its
    currents now where they are the model's optimum as it stands, solved and settled
    (`_Lp.settled`), else None.

    `bound` is the objective of the plan with `j` still open, which neither side can beat
    (both only narrow it, tail rows only add to it). The side nearer `relaxed_a` is tried
    first; where its plan reaches the bound, the other is not tried. Not where `j` is
    probed now (`_Blocks.probe_a`): off lifts that floor, and can beat it.

    Stopping within a gap of the bound as well (a share of 1e-9 of it, 4e-3 on the
    workplace day's plans, a few millionths of an ampere over a step) took the workplace
    day's rounding from 149 solves to 100, but it decided near-ties the other way:
    office-day-ahead's highest site current went from 154.1 A to 157.8 A, and on the
    generated family at a 6 A minimum (`python -m benchmarks.quality --count 16 --seed
    1000 --min-current 6`) the worst scenario's gap to offline from -3.18 to -3.23 points.
    Without it the shipped replays are unchanged."""
    highs, blocks = lp.highs, lp.blocks
    sides = [True, False]
    if relaxed_a < blocks.minimum[j] / 2.0:
        sides.reverse()
    close = bound if blocks.probe_a[j] == 0.0 else -math.inf
    tried: dict[bool, float] = {}
    plans: dict[bool, FloatArray | None] = {}
    for side in sides:
        _bound(highs, np.asarray([j]), *_side(blocks, j, on=side))
        rows = len(lp.tail_block)
        if not _run(lp):
            continue
        tried[side] = highs.getInfo().objective_function_value
        plans[side] = _now(lp) if lp.settled else None
        if tried[side] <= close:
            break
    if not tried:
        _bound(highs, np.asarray([j]), *_side(blocks, j, on=False))
        return bound, None
    chosen = _better(tried)
    if chosen != side:
        _bound(highs, np.asarray([j]), *_side(blocks, j, on=chosen))
        if len(lp.tail_block) > rows:
            # the other side's tail rows may cut this plan
            return tried[chosen], None
    return tried[chosen], plans[chosen]


def _better(tried: dict[bool, float]) -> bool:
    """The side (on: True) of the better plan `tried`, on at a tie."""
    if True in tried and tried[True] <= min(tried.values()) + 1e-9:
        return True
    return min(tried, key=tried.__getitem__)


def _bound(highs: Any, columns: IntArray, lower: FloatArray, upper: FloatArray) -> None:
    if len(columns):
        highs.changeColsBounds(len(columns), columns.astype(np.int32), lower, upper)


def leaving(departure: FloatArray, now_s: float) -> FloatArray:
    """(M,) each session's bonus for leaving sooner (`LEAVING_WEIGHT`), from the POSIX
    seconds it is planned to be done by."""
    last = float(departure.max(initial=now_s))
    return np.asarray(LEAVING_WEIGHT * (last - departure) / max(last - now_s, 1.0))


def _build(
    highs: Any,
    blocks: _Blocks,
    members: FloatArray,
    free: FloatArray,
    fair_a: FloatArray,
    step_s: float,
    money: _Money | None = None,
) -> _Shape:
    """The relaxed plan without its tail rows: columns are the currents (block-major),
    then the deviations above and below the fair shares now, then with money the peak
    site import and the surplus taken per block (`_money_columns`), all in phase-amperes.
    Rows: each row template's (`members`) per block, each session's need and its
    deviation now, then with money the peak and surplus rows per block."""
    count, m = blocks.shape
    phases = blocks.phases
    fairness = 1.0 if money is None else money.fairness
    early = EARLY_WEIGHT if money is None else PRICED_EARLY_WEIGHT
    earliness = 1.0 + fairness * early * (count - np.arange(count)) / count
    weight = DEVIATION_WEIGHT if money is None else PRICED_DEVIATION_WEIGHT
    deviation = fairness * weight * step_s * phases
    drawn = blocks.drawn
    value = blocks.worth * earliness[:, None] * (phases * blocks.finishing)[None, :]
    if money is not None:
        value -= drawn * money.energy[:, None] * phases[None, :]
    at_most = blocks.at_most()
    cost = np.concatenate([-value.ravel(), deviation, deviation])
    lower = np.zeros(len(cost))
    lower[:m] = blocks.probe_a
    upper = np.concatenate([at_most.ravel(), np.full(2 * m, highspy.kHighsInf)])
    extra = _money_columns(blocks, money, len(cost))
    cost = np.concatenate([cost, extra.cost])
    lower = np.concatenate([lower, extra.lower])
    upper = np.concatenate([upper, extra.upper])
    n_cols = len(cost)
    highs.addVars(n_cols, lower, upper)
    highs.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), cost)

    builder = _Rows()
    templates = _template_rows(builder, members, free, at_most)
    block_start = np.arange(count) * m

    # An EV stops by itself when full: its minimum may overshoot what is left of its need.
    index = block_start[None, :] + np.arange(m)[:, None]
    overshoot = blocks.minimum * drawn[0] * phases
    builder.add_many(index, drawn.T * phases[:, None], blocks.need + overshoot)

    now = np.arange(m)
    deviations = np.column_stack([now, count * m + now, count * m + m + now])
    builder.add_many(deviations, np.tile([1.0, -1.0, 1.0], (m, 1)), fair_a, fair_a)
    extra.add_rows(builder, blocks)
    builder.pass_to(highs)
    return _Shape(*templates, extra.peak is not None, extra.surplus)


def _template_rows(
    builder: _Rows, members: FloatArray, free: FloatArray, at_most: FloatArray
) -> tuple[IntArray, IntArray]:
    """Each row template's rows (`members` (K, M) its coefficients, `free` (K,) what the
    others leave of it now), one per block, template after template: its sessions' currents
    in the block, within what is free (less `NOW_SLACK_A` in the first block). Only the
    rows that can bind: a template with a session in it, in a block where its sessions at
    their most (`at_most` (B, M), which no bound set later raises) would take more than
    that. A row none of them can fill holds at every plan; left out, the LP is smaller
    (62 % of a workplace day's template rows, 24 % over the synthetic year's first ten
    days: sessions gone from later blocks, phases with room to spare). The plans' optimum
    is the same, but where it is not unique the simplex may end at another: the shipped
    scenarios, 30 days of the synthetic year and the family's seeds 5000 (`python -m
    benchmarks.quality --count 40 --min-current 0`) replay the same; of the whole year 11
    steps differ (by at most 0.5 A, the energy the same), of seeds 1000 residential-1022
    gained 0.01 points against max(EDF, LLF). Returns each row's template and block. Laid
    out in one pass over every template's entries, not row by row: a plan is built at
    every step."""
    count, m = at_most.shape
    template, col = np.nonzero(members > 0.0)
    kept, size = np.unique(template, return_counts=True)
    upper = np.repeat(np.maximum(free[kept], 0.0)[:, None], count, axis=1)
    upper[:, 0] = np.maximum(free[kept] - NOW_SLACK_A, 0.0)
    reach = np.einsum("km,bm->kb", members[kept], at_most)
    row_template, row_block = np.nonzero(reach > upper - UNBOUND_ROW_A)
    first = np.cumsum(size) - size
    row_size = size[row_template]
    row = np.repeat(np.arange(len(row_size)), row_size)
    place = np.arange(len(row)) - np.repeat(np.cumsum(row_size) - row_size, row_size)
    entry = first[row_template][row] + place
    index = row_block[row] * m + col[entry]
    builder.add_ragged(
        row_size, index, members[template, col][entry], upper[row_template, row_block]
    )
    return np.asarray(kept[row_template], dtype=np.int64), np.asarray(row_block, dtype=np.int64)


@dataclass(frozen=True)
class _MoneyColumns:
    """The peak column (`peak`, its index or None) and one surplus column per block
    (`surplus`, the first index or None), with their costs and bounds.

    A session's current in a block is its mean over the block, but it draws only while it
    is there (`_Blocks.present`): the peak row counts it at that rate,
    `x_bj / present_bj`, as if every session in the block drew at once, at its start.
    Counted at its mean, a long block late in the day spread the energy of the sessions
    that leave early in it over all of it, so the plan counted on a lower peak than they
    would need, and raised it step after step as the block shrank to their departures.
    On `python -m benchmarks.cost` (after the peak so far was counted over its intervals,
    `ems.demand`), the worst peak above offline's went from 15.9 % to 10.6 % (seeds 100,
    12, and the shipped scenarios; mean of those with a demand charge 8.2 % to 7.2 %)
    and from 19.3 % to 18.2 % (seeds 300, 20; mean 8.5 % to 7.8 %), delivering as much or
    more on every scenario."""

    cost: FloatArray
    lower: FloatArray
    upper: FloatArray
    peak: int | None
    surplus: int | None
    base: FloatArray

    def add_rows(self, builder: _Rows, blocks: _Blocks) -> None:
        count, m = blocks.shape
        currents = np.arange(count)[:, None] * m + np.arange(m)[None, :]
        draws = np.tile(blocks.draw_phases, (count, 1))
        if self.peak is not None:
            # site-peak-b:  sum_j phases_j x_bj / present_bj - peak <= -base_b
            index = np.concatenate([currents, np.full((count, 1), self.peak)], axis=1)
            spread = drawing(blocks.present, blocks.held)
            coef = np.concatenate([draws / spread, -np.ones((count, 1))], axis=1)
            builder.add_many(index, coef, -self.base)
        if self.surplus is not None:
            # surplus-b:  taken_b - sum_j phases_j x_bj <= 0
            taken = self.surplus + np.arange(count)[:, None]
            index = np.concatenate([taken, currents], axis=1)
            coef = np.concatenate([np.ones((count, 1)), -draws], axis=1)
            builder.add_many(index, coef, np.zeros(count))


def _money_columns(blocks: _Blocks, money: _Money | None, first: int) -> _MoneyColumns:
    """The columns money adds after column `first - 1`: the peak import, priced per
    phase-ampere above what is paid for; the surplus each block takes (at most what the
    site would export), each phase-ampere-second of it worth the import it saves less the
    feed-in it forgoes."""
    empty = np.zeros(0)
    if money is None:
        return _MoneyColumns(empty, empty, empty, None, None, empty)
    cost, lower, upper = [], [], []
    peak = surplus = None
    if money.peak > 0.0:
        peak = first
        cost.append(np.asarray([money.peak]))
        lower.append(np.asarray([max(money.peak_floor, 0.0)]))
        upper.append(np.asarray([highspy.kHighsInf]))
    if (money.surplus_value > 0.0).any() and (money.surplus > 0.0).any():
        surplus = first + len(cost)
        cost.append(-money.surplus_value * blocks.length)
        lower.append(np.zeros(len(blocks.length)))
        upper.append(money.surplus)
    if not cost:
        return _MoneyColumns(empty, empty, empty, None, None, money.base)
    return _MoneyColumns(
        np.concatenate(cost),
        np.concatenate(lower),
        np.concatenate(upper),
        peak,
        surplus,
        money.base,
    )


def drawing(present: FloatArray, held: BoolArray) -> FloatArray:
    """(B, M) the share of each block a session draws at the rate its current states: all of
    it in a held block (the current is what it draws while there), the part it is there
    (at least `PRESENT_FLOOR`) for a later block's mean."""
    return np.where(held[:, None], 1.0, np.maximum(present, PRESENT_FLOOR))


def tail_weights(
    length: FloatArray, present: FloatArray, fall: FloatArray, held: BoolArray
) -> FloatArray:
    """(B, M) the weight w of a session's current x_b in its tail row in each block,
    w x_b <= cap (TAIL_END + (1 - TAIL_END) (need - taken before b) / tail): the most a
    battery whose maximum falls by `fall` (M,) per ampere-second it takes (its tail's slope
    times its phases) takes over the part `present` (B, M) of a block of `length` (B,)
    seconds, as a mean over the block, or in a `held` (B,) block as the current it draws
    while there.

    Starting the block at the maximum m, such a battery draws m e^(-fall t): over the part
    p of a block of L it takes m (1 - e^(-u)) / fall, u = fall p L, so its mean current
    over the block is x = m p (1 - e^(-u)) / u, and x u / ((1 - e^(-u)) p) <= m (p = 1
    where the current is held while there, see `drawing`). At the
    maximum at the block's start (w = 1), a session planned its tail in a long block at
    the end as if its battery did not fill in it, and in the block it leaves in as if
    there all of the block."""
    u = fall[None, :] * present * length[:, None]
    through = np.ones_like(u)
    np.divide(u, -np.expm1(-u), out=through, where=u > MIN_DIVISOR)
    return np.asarray(through / drawing(present, held), dtype=np.float64)


def _broken_tail(values: FloatArray, blocks: _Blocks) -> tuple[IntArray, IntArray] | None:
    """The battery-tail rows the plan's currents `values` (B, M) break as (blocks,
    sessions), None if it breaks none: after the first block,
    w_b current_b <= cap (TAIL_END + (1 - TAIL_END) (need - taken before b) / tail), w_b
    from `tail_weights`."""
    phases, slope, rhs = blocks.phases, blocks.tail_slope, blocks.tail_rhs
    taken = np.cumsum(values * blocks.drawn * phases[None, :], axis=0)[:-1]
    held = blocks.tail_weight[1:] * values[1:]
    broken = (held + slope[None, :] * taken > rhs[None, :] + TAIL_TOLERANCE_A) & (
        blocks.present[1:] > 0.0
    )
    if not broken.any():
        return None
    block, session = np.nonzero(broken)
    return block + 1, session


def _tail_rows(blocks: _Blocks, block: IntArray, session: IntArray) -> _Rows:
    """The battery-tail rows of `session`s in `block`s (both (R,), blocks after the first):
    row r holds its session's current in its block, then its currents in the blocks
    before (weighted by the energy they take)."""
    _, m = blocks.shape
    phases, slope, rhs = blocks.phases, blocks.tail_slope, blocks.tail_rhs
    sizes = block + 1
    row = np.repeat(np.arange(len(block)), sizes)
    place = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    j = session[row]
    earlier = place - 1
    index = np.where(place == 0, block[row], earlier) * m + j
    weight = blocks.tail_weight[block[row], j]
    value = np.where(place == 0, weight, slope[j] * blocks.drawn[earlier, j] * phases[j])
    builder = _Rows()
    builder.add_ragged(sizes, index, value, rhs[session])
    return builder


class _Rows:
    """Rows of the LP in HiGHS's row-wise sparse form, added in batches (of rows of equal
    length, or ragged)."""

    def __init__(self) -> None:
        self.index: list[IntArray] = []
        self.value: list[FloatArray] = []
        self.lower: list[FloatArray] = []
        self.upper: list[FloatArray] = []
        self.sizes: list[IntArray] = []

    def add_many(
        self,
        index: IntArray,
        value: FloatArray,
        upper: FloatArray,
        lower: FloatArray | None = None,
    ) -> None:
        """Rows `lower <= value . x[index] <= upper`, one per row of `index` (R, L)."""
        count = index.shape[0]
        self.index.append(np.asarray(index, dtype=np.int64).reshape(count, -1))
        self.value.append(np.asarray(value, dtype=np.float64).reshape(count, -1))
        self.sizes.append(np.full(count, self.index[-1].shape[1]))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=np.float64), (count,)))
        self.lower.append(
            np.full(count, -np.inf) if lower is None else np.broadcast_to(lower, (count,))
        )

    def add_ragged(
        self, sizes: IntArray, index: IntArray, value: FloatArray, upper: FloatArray
    ) -> None:
        """Rows `value . x[index] <= upper` of `sizes` entries each, `index` and `value`
        the rows' entries one after the other."""
        self.index.append(np.asarray(index, dtype=np.int64))
        self.value.append(np.asarray(value, dtype=np.float64))
        self.sizes.append(np.asarray(sizes, dtype=np.int64))
        self.upper.append(np.asarray(upper, dtype=np.float64))
        self.lower.append(np.full(len(sizes), -np.inf))

    def pass_to(self, highs: Any) -> None:
        lengths = np.concatenate(self.sizes)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32)
        lower = np.maximum(np.concatenate(self.lower), -highspy.kHighsInf)
        upper = np.minimum(np.concatenate(self.upper), highspy.kHighsInf)
        highs.addRows(
            len(starts),
            lower,
            upper,
            int(lengths.sum()),
            starts,
            np.concatenate([i.ravel() for i in self.index]).astype(np.int32),
            np.concatenate([v.ravel() for v in self.value]),
        )
