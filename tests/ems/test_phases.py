import math

from ems.phases import round_down, spread, to_site_phases
from tests.ems.fakes import L1, L2, L3


def test_unrotated_three_phase_maps_in_order() -> None:
    assert to_site_phases((L1, L2, L3), (10.0, 11.0, 12.0)) == (10.0, 11.0, 12.0)


def test_rotated_connector_puts_charger_l1_on_site_l2() -> None:
    assert to_site_phases((L2, L3, L1), (10.0, 11.0, 12.0)) == (12.0, 10.0, 11.0)


def test_one_phase_connector_uses_only_its_first_value() -> None:
    assert to_site_phases((L3,), (16.0, None, None)) == (0.0, 0.0, 16.0)


def test_nothing_usable_is_none_not_zero() -> None:
    assert to_site_phases((L1, L2, L3), (None, math.nan, None)) is None


def test_spread_and_round_down() -> None:
    assert spread((L2,), 7.0) == (0.0, 7.0, 0.0)
    assert round_down(10.99) == 10.9
    assert round_down(0.3) == 0.3
    assert round_down(-1.0) == 0.0
