from __future__ import annotations

import pytest

from ems.replay.ev import SimulatedEv, arrival_soc, battery_size_wh, taper_factor


def test_taper_is_flat_below_eighty_percent_then_falls() -> None:
    assert taper_factor(0.5) == 1.0
    assert taper_factor(0.8) == 1.0
    assert taper_factor(0.9) == pytest.approx(0.6)
    assert taper_factor(1.0) == pytest.approx(0.2)


def test_request_ends_at_ninety_percent() -> None:
    battery = battery_size_wh(30_000.0, None)
    assert battery == 60_000.0
    assert arrival_soc(30_000.0, battery) == pytest.approx(0.4)
    assert battery_size_wh(80_000.0, 60_000.0) == pytest.approx(80_000.0 / 0.9)


def _ev(energy_wh: float = 30_000.0) -> SimulatedEv:
    return SimulatedEv(
        max_current_a=16.0, phases=3, voltage_v=230.0, energy_wh=energy_wh, battery_wh=60_000.0
    )


def test_ev_draws_the_lower_of_allowed_and_its_max() -> None:
    ev = _ev()
    assert ev.charge(10.0, 3600.0) == 10.0
    assert ev.delivered_wh == pytest.approx(10.0 * 3 * 230.0)
    assert ev.charge(32.0, 60.0) == 16.0


def test_ev_tapers_near_full_and_stops_at_its_request() -> None:
    ev = _ev(energy_wh=9_000.0)  # arrives at 75 %, ends at 90 %
    first = ev.charge(16.0, 600.0)
    assert first == 16.0
    ev.delivered_wh = 8_000.0  # soc 0.8833
    assert ev.acceptable_a() == pytest.approx(16.0 * taper_factor(0.75 + 8_000.0 / 60_000.0))
    drawn = ev.charge(16.0, 3600.0)
    assert ev.delivered_wh == pytest.approx(9_000.0)
    assert drawn < ev.max_current_a
    assert ev.charge(16.0, 600.0) == 0.0
    assert ev.acceptable_a() == 0.0


def test_an_ideal_battery_takes_its_maximum_until_its_request_is_met() -> None:
    ev = SimulatedEv(
        max_current_a=16.0,
        phases=3,
        voltage_v=230.0,
        energy_wh=30_000.0,
        battery_wh=60_000.0,
        delivered_wh=29_000.0,
        tapering=False,
    )
    assert ev.soc > 0.85
    assert ev.acceptable_a() == 16.0
    assert ev.charge(16.0, 60.0) == 16.0
    tapered = _ev()
    tapered.delivered_wh = 29_000.0
    assert tapered.acceptable_a() < 16.0


def test_replay_options_choose_the_battery() -> None:
    from ems.replay import ReplayOptions, compute_kpis, replay
    from ems.replay.synthetic import small

    kwh = {
        battery: compute_kpis(
            replay(small(), "offline", ReplayOptions(battery=battery))
        ).energy_delivered_kwh
        for battery in ("tapering", "ideal")
    }
    assert kwh["ideal"] >= kwh["tapering"] - 1e-6
    with pytest.raises(ValueError, match="unknown battery"):
        replay(small(), "edf", ReplayOptions(battery="lead-acid"))
