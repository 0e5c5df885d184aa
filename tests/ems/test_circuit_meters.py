"""A circuit meter's load that is not our chargers' counts on its circuit and the circuits
above it; a circuit meter that does not see our chargers, or falls silent, keeps its
circuit at the highest load it measured."""

from __future__ import annotations

from ems.events import MeterReading
from ems.site import ControlSettings
from optimizer.problem import Circuit
from tests.ems.fakes import connector, site
from tests.ems.harness import Harness

SETTINGS = ControlSettings(period_s=10, meter_stale_s=10)


def garage() -> Harness:
    """A 40 A row under a 63 A garage feeder; charger a on the row, b on the feeder."""
    s = site(
        connector("a", circuit="row"),
        connector("b", circuit="garage"),
        limit_a=100,
        worst_a=(10, 10, 10),
        circuits=(Circuit("garage", 63.0), Circuit("row", 40.0, parent="garage")),
    )
    h = Harness(s, SETTINGS)
    h.scripted.currents = {"a/1": 16.0}
    h.meter((30, 30, 30))
    h.start("a", "T1")
    h.tick()
    return h


def circuit_reading(h: Harness, circuit: str, amps: tuple[float, float, float]) -> None:
    h.send(MeterReading(f"{circuit}-meter", h.clock.now, True, amps, circuit=circuit))


def planned_limits(h: Harness) -> dict[str, float]:
    """The circuit limits the optimizer was last given (room left for our chargers)."""
    return {c.id: c.limit_a for c in h.scripted.problems[-1].circuits}


def step_with(h: Harness, row_a: float, a_draws: float = 16.0, seconds: float = 10) -> None:
    h.advance(seconds)
    h.sample("a", (a_draws, a_draws, a_draws))
    h.meter((30 + a_draws, 30 + a_draws, 30 + a_draws))
    circuit_reading(h, "row", (row_a, row_a, row_a))
    h.tick()


def test_what_else_a_circuit_carries_is_taken_off_it_and_the_circuits_above() -> None:
    h = garage()
    before = planned_limits(h)
    step_with(h, row_a=16 + 12)  # a draws 16 A of the row's 28 A: 12 A are lights
    after = planned_limits(h)
    assert after["row"] == before["row"] - 12
    assert after["garage"] == before["garage"] - 12


def test_a_circuit_meter_short_of_our_chargers_keeps_the_highest_load_it_measured() -> None:
    h = garage()
    step_with(h, row_a=16 + 12)
    trusted = planned_limits(h)
    step_with(h, row_a=16 + 2, seconds=10)  # the lights went off: 2 A left...
    assert planned_limits(h)["row"] == trusted["row"] + 10
    for _ in range(2):  # ...then it reads less than a alone draws: blind to a
        step_with(h, row_a=4, seconds=1)
    # not 40 - 0: the highest load it measured while it agreed (12 A) still counts
    assert planned_limits(h)["row"] == trusted["row"]
    (reason,) = h.controller.view().untrusted_circuit_meters
    assert "reads 4.0 A on L1, less than the 16.0 A our chargers under it report" in reason


def test_a_silent_circuit_meter_keeps_the_highest_load_it_measured() -> None:
    h = garage()
    step_with(h, row_a=16 + 12)
    trusted = planned_limits(h)
    step_with(h, row_a=16 + 2, seconds=6)
    h.advance(11)  # the row meter falls silent: stale
    h.sample("a", (16.0, 16.0, 16.0))
    h.meter((46, 46, 46))
    h.tick()
    assert planned_limits(h)["row"] == trusted["row"]
    (reason,) = h.controller.view().untrusted_circuit_meters
    assert "stale: last good reading 11 s old" in reason


def test_a_reading_of_a_circuit_nobody_configured_changes_nothing() -> None:
    h = garage()
    before = planned_limits(h)
    h.advance(10)
    circuit_reading(h, "cellar", (50, 50, 50))
    h.meter((46, 46, 46))
    h.sample("a", (16.0, 16.0, 16.0))
    h.tick()
    assert planned_limits(h) == before
