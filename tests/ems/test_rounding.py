"""Joint rounding onto the 0.1 A grid: the room the floors free is handed back, and no
limit is ever exceeded."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from ems.limit_check import check_loads
from ems.phases import round_down, spread
from ems.rounding import GRID_A, Wanted, round_jointly
from ems.site import ConnectorConfig
from optimizer.problem import Circuit, Phase
from tests.ems.fakes import L1, L2, L3, THREE, connector, site


def _wanted(config: ConnectorConfig, current_a: float, **kw: float) -> Wanted:
    return Wanted(config.key, config, config.phases, current_a, **kw)


def test_the_room_the_floors_free_is_handed_back_largest_remainder_first() -> None:
    """Three 3-phase connectors share 31 A after 1 A of base load: 10.33 A each. Floored
    they take 30.9 A; the 0.1 A left goes to one of them, not to none."""
    a, b, c = connector("a"), connector("b"), connector("c")
    s = site(a, b, c, limit_a=32.0)
    wanted = [_wanted(a, 31 / 3), _wanted(b, 31 / 3 + 0.01), _wanted(c, 31 / 3)]
    rounded = round_jointly(s, (1.0, 1.0, 1.0), {}, wanted)
    assert rounded == {"a/1": 10.3, "b/1": 10.4, "c/1": 10.3}
    assert sum(rounded.values()) > sum(round_down(w.current_a) for w in wanted)


def test_a_connector_holding_the_step_keeps_it_when_remainders_change_order() -> None:
    """Room for one step above the floors: `b` has the larger remainder, but `a` holds
    the step already (sent 10.4 A). As the measured base load moves by a few hundredths
    the remainders change order; handing the step over would cost two profiles for 0.1 A.
    Against a remainder more than half a step larger, the step moves."""
    a, b = connector("a"), connector("b")
    s = site(a, b, limit_a=21.7)
    wanted = [_wanted(a, 10.33), _wanted(b, 10.36)]
    assert round_jointly(s, (1.0, 1.0, 1.0), {}, wanted) == {"a/1": 10.3, "b/1": 10.4}
    held = [_wanted(a, 10.33, held_a=10.4), _wanted(b, 10.36, held_a=10.3)]
    assert round_jointly(s, (1.0, 1.0, 1.0), {}, held) == {"a/1": 10.4, "b/1": 10.3}
    far = [_wanted(a, 10.31, held_a=10.4), _wanted(b, 10.39, held_a=10.3)]
    assert round_jointly(s, (1.0, 1.0, 1.0), {}, far) == {"a/1": 10.3, "b/1": 10.4}, (
        "a remainder more than half a step larger takes the step"
    )


def test_a_step_is_given_only_where_every_limit_of_the_connector_holds() -> None:
    """`a` sits under a full circuit: its remainder is the largest but its step would
    break the circuit, so the step goes to `b` on the site's free room."""
    a, b = connector("a", circuit="c1"), connector("b")
    s = site(a, b, limit_a=40.0, circuits=(Circuit("c1", 12.0),))
    wanted = [_wanted(a, 11.99), _wanted(b, 10.05)]
    rounded = round_jointly(s, (0.0, 0.0, 0.0), {"c1": (0.1, 0.1, 0.1)}, wanted)
    assert rounded == {"a/1": 11.9, "b/1": 10.1}


def test_no_step_above_the_connector_maximum_nor_below_its_minimum() -> None:
    a, b = connector("a", max_a=16.05), connector("b")
    s = site(a, b, limit_a=63.0)
    wanted = [_wanted(a, 16.05, cap_a=16.05), _wanted(b, 0.05, min_a=6.0)]
    assert round_jointly(s, (0.0, 0.0, 0.0), {}, wanted) == {"a/1": 16.0, "b/1": 0.0}


def test_an_ev_maximum_off_the_grid_is_rounded_up_where_it_fits() -> None:
    """An 11 kW 3-phase EV takes at most 15.94 A: floored to 15.9 A it would charge below
    its maximum all stay; 16.0 A fits the site, the connector allows 32 A, and the EV
    still draws only its 15.94 A. Where the step does not fit, the floor stays."""
    a = connector("a")
    wanted = [_wanted(a, 15.94, cap_a=15.94)]
    assert round_jointly(site(a, limit_a=63.0), (0.0, 0.0, 0.0), {}, wanted) == {"a/1": 16.0}
    assert round_jointly(site(a, limit_a=15.95), (0.0, 0.0, 0.0), {}, wanted) == {"a/1": 15.9}


def test_the_power_cap_is_a_limit_too() -> None:
    """Floored, two 3-phase connectors take 60 A in all; a cap of 60.3 A × 230 V leaves
    room for one step (0.3 A over the three phases), which goes to the larger remainder."""
    a, b = connector("a"), connector("b")
    cap_w = 60.3 * 230.0
    s = site(a, b, limit_a=63.0, power_limit_w=cap_w)
    rounded = round_jointly(s, (0.0, 0.0, 0.0), {}, [_wanted(a, 10.06), _wanted(b, 10.05)])
    assert rounded == {"a/1": 10.1, "b/1": 10.0}


_PHASES = st.sampled_from([THREE, (L1,), (L2,), (L3,), (L2, L3, L1)])


@settings(max_examples=200, deadline=None)
@given(
    specs=st.lists(
        st.tuples(
            _PHASES,
            st.floats(0.0, 32.0),
            st.sampled_from([None, "c1", "c2"]),
            st.floats(0.0, 1.0),
        ),
        min_size=1,
        max_size=12,
    ),
    limit_a=st.floats(6.0, 120.0),
    circuit_a=st.floats(0.0, 60.0),
    base=st.tuples(st.floats(0.0, 20.0), st.floats(0.0, 20.0), st.floats(0.0, 20.0)),
    power_share=st.one_of(st.none(), st.floats(0.2, 1.0)),
)
def test_rounding_never_exceeds_a_limit_nor_one_step_above_the_value(
    specs: list[tuple[tuple[Phase, ...], float, str | None, float]],
    limit_a: float,
    circuit_a: float,
    base: tuple[float, float, float],
    power_share: float | None,
) -> None:
    """Values within every limit (scaled into them, as an optimizer's are) stay within
    them after rounding; each ends on the grid, at its floor or one step above, never above
    its maximum; and every connector left at its floor with a remainder could not take a
    step without breaking one of its limits."""
    configs = [
        connector(f"c{i}", phases=phases, circuit=circuit, max_a=32.0)
        for i, (phases, _, circuit, _) in enumerate(specs)
    ]
    circuits = (Circuit("top", circuit_a + 10.0), Circuit("c1", circuit_a, "top"))
    circuits += (Circuit("c2", circuit_a / 2, "top"),)
    power_w = None if power_share is None else power_share * 3 * limit_a * 230.0
    s = site(*configs, limit_a=limit_a, circuits=circuits, power_limit_w=power_w)
    fixed = {"top": (1.0, 0.0, 2.0)}
    raw = [spec[1] for spec in specs]

    def loads(values: list[float]) -> list[tuple[ConnectorConfig, tuple[float, float, float]]]:
        return [(c, spread(c.phases, v)) for c, v in zip(configs, values, strict=True)]

    # Scale the raw values down until they fit, as an optimizer's allocation would.
    for _ in range(60):
        if not check_loads(s, base, fixed, loads(raw)):
            break
        raw = [v * 0.8 for v in raw]
    else:
        raw = [0.0] * len(raw)
    if check_loads(s, base, fixed, loads(raw)):
        return  # the base load alone breaks a limit: nothing to round into
    wanted = [
        _wanted(c, v, cap_a=32.0, priority=spec[3])
        for c, v, spec in zip(configs, raw, specs, strict=True)
    ]
    rounded = round_jointly(s, base, fixed, wanted)
    values = [rounded[c.key] for c in configs]
    assert check_loads(s, base, fixed, loads(values)) == ()
    for w, value in zip(wanted, values, strict=True):
        assert math.isclose(value * 10, round(value * 10), abs_tol=1e-9)
        assert round_down(w.current_a) - 1e-9 <= value <= round_down(w.current_a) + GRID_A + 1e-9
        assert value <= w.current_a + GRID_A + 1e-9
        assert value <= w.config.max_current_a + 1e-9
        assert value < w.cap_a + GRID_A
    # Nothing left that fits: a connector at its floor with a remainder breaks a limit
    # if given one more step.
    for i, (w, value) in enumerate(zip(wanted, values, strict=True)):
        if value >= w.current_a - 1e-9 or value + GRID_A > w.config.max_current_a + 1e-9:
            continue
        more = list(values)
        more[i] = value + GRID_A
        assert check_loads(s, base, fixed, loads(more)) != ()
