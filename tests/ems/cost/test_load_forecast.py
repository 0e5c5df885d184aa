"""A live site gives no forecast of its own load: the controller plans its money with
the load it learned, what the site imported a week (else a day) before."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta

from ems.events import EnergyNeed, LoadHistoryRecalled, MeterReading
from ems.load_history import SLOT_S, WEEK_SLOTS
from ems.meter_watch import Mode
from ems.site import ControlSettings
from ems.tariff import Tariff
from optimizer.allocation import Allocation
from optimizer.problem import Lookahead, PowerPeriod, Problem
from optimizer.solver import Solver
from tests.ems.fakes import T0, connector, site
from tests.ems.harness import Harness, tx_limits

SLOT = int(T0.timestamp()) // SLOT_S
"""The slot the test starts in (T0 is a quarter hour's start)."""
NOW_W = 2_000.0
LATER_W = 20_000.0
HOUR = timedelta(hours=1)


@dataclass
class Recording:
    """The real solver, keeping the look-ahead of every problem it was given."""

    solver: Solver = field(default_factory=Solver)
    lookaheads: list[Lookahead | None] = field(default_factory=list)

    def solve(self, problem: Problem) -> Allocation:
        self.lookaheads.append(problem.lookahead)
        return self.solver.solve(problem)


def planned(history: tuple[tuple[int, float], ...]) -> tuple[float, Lookahead | None]:
    """The limit the first step gives a session needing 20 kWh within 4 h, under a flat
    price and a demand charge, while the site imports `NOW_W` besides it; and the
    look-ahead it was planned with."""
    priced = replace(
        site(connector("a", max_a=16.0), worst_a=(0.0, 0.0, 0.0)),
        tariff=Tariff(fixed_price_per_kwh=0.3, demand_price_per_kw=10.0),
    )
    solver = Recording()
    h = Harness(priced, ControlSettings(lookahead=True, min_update_interval_s=0), solver)
    h.send(LoadHistoryRecalled(T0, history))
    amps = NOW_W / 3 / 230.0
    h.send(MeterReading("main", T0, True, (amps,) * 3, total_power_w=NOW_W))
    h.start("a", "T1")
    h.send(EnergyNeed("a", 1, T0, energy_wh=20_000.0, departure=T0 + 4 * HOUR))
    limits = tx_limits(h.tick())
    return limits["a/1"], solver.lookaheads[-1]


def test_a_load_that_rose_later_a_week_ago_moves_the_charging_ahead_of_it() -> None:
    a_week_ago = SLOT - WEEK_SLOTS
    rising = ((a_week_ago, NOW_W), *((a_week_ago + k, LATER_W) for k in range(4, 16)))

    flat_a, flat = planned(())
    rising_a, ahead = planned(rising)

    assert flat is not None
    assert ahead is not None
    assert flat.base_import == (PowerPeriod(T0, NOW_W),)
    assert ahead.base_import[0] == PowerPeriod(T0, NOW_W)
    assert ahead.base_import[1] == PowerPeriod(T0 + HOUR, LATER_W)
    # the demand charge: charge before the building sets its peak, not along with it
    assert rising_a > flat_a
    assert rising_a == 16.0


def test_the_history_learns_the_import_besides_our_chargers_trusted_or_not() -> None:
    """A meter reading less than our charger draws (PV behind it, no `pv_peak_a`
    configured) is not trusted for the limits, but its import is learned all the same."""
    h = Harness(site(connector("a", max_a=16.0)), ControlSettings(min_update_interval_s=0))
    h.start("a", "T1")
    for _ in range(90):
        h.sample("a", (5.0, 5.0, 5.0))  # 3450 W
        h.send(MeterReading("main", h.clock.now, True, (1.0,) * 3, total_power_w=1_000.0))
        h.advance(10)
    h.send(MeterReading("main", h.clock.now, True, (1.0,) * 3, total_power_w=1_000.0))

    view = h.controller.view(h.clock.now)
    assert view.mode is Mode.CONSERVATIVE
    assert view.load_slots == ((SLOT, -2_450.0),)


def test_the_view_shows_the_building_load_the_plan_expects() -> None:
    a_day_ago = SLOT - WEEK_SLOTS // 7
    history = ((a_day_ago, NOW_W), (a_day_ago + 4, LATER_W), (a_day_ago + 5, NOW_W))
    h = Harness(site(connector("a")), ControlSettings(min_update_interval_s=0))
    h.send(LoadHistoryRecalled(T0, history))
    h.advance(60.0)

    ahead = h.controller.view(h.clock.now).load_ahead

    assert ahead == (
        PowerPeriod(T0 + timedelta(seconds=60), NOW_W),
        PowerPeriod(T0 + HOUR, LATER_W),
        PowerPeriod(T0 + HOUR + timedelta(seconds=SLOT_S), NOW_W),
    )
    assert Harness(site(connector("a"))).controller.view(T0).load_ahead == ()
