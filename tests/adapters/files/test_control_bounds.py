"""`[control]` numbers safety rests on are bounded; a value out of range, or two that do not
fit together, is refused with the file, the line, the field and why."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from adapters.files.app_config import load_app_config
from adapters.files.config import CONTROL_BOUNDS, CONTROL_RELATIONS, load_config, parse_config
from adapters.files.errors import InputFileError
from ems.site import ControlSettings

EXAMPLE = Path(__file__).parents[3] / "examples" / "site.toml"

SITE = """\
[site]
name = "garage"
limit_a = 63

[[chargers]]
id = "cp1"
[[chargers.connectors]]
connector_id = 1
phases = "L1L2L3"
max_current_a = 32

[control]
"""
CONTROL_LINE = SITE.count("\n")
"""The line of `[control]`; the first key below it is on the next line."""
NUMBERS = [f.name for f in dataclasses.fields(ControlSettings) if str(f.type) in ("int", "float")]


def error_for(control: str) -> InputFileError:
    with pytest.raises(InputFileError) as caught:
        parse_config(SITE + control, "site.toml")
    return caught.value


def test_every_number_in_control_has_a_bound_its_default_meets() -> None:
    assert sorted(CONTROL_BOUNDS) == sorted(NUMBERS)
    defaults = ControlSettings()
    for name, bound in CONTROL_BOUNDS.items():
        value = getattr(defaults, name)
        assert bound.low <= value <= bound.high, name
        assert value > bound.low or not bound.above_low, name
        assert bound.why, name
    for rule in CONTROL_RELATIONS:
        assert rule.field in NUMBERS
        assert rule.other in NUMBERS


def test_the_shipped_example_loads_with_every_edge() -> None:
    assert load_config(EXAMPLE).control == ControlSettings()
    config = load_app_config(EXAMPLE)
    assert config.meters[0].frozen_after_s == 8.0


def test_too_big_names_file_line_field_and_why() -> None:
    error = error_for("period_s = 10\nprofile_validity_s = 1e12\n")

    assert str(error) == (
        f"site.toml:{CONTROL_LINE + 2}: control.profile_validity_s: must be at most 86400 s"
        " (got 1e+12 s): chargers keep a session limit this long after the controller stops;"
        " beyond a day it outlives the load it was computed for, under 10 s chargers do"
        " nothing but replace profiles"
    )


def test_a_huge_backdate_is_too_big() -> None:
    error = error_for("start_schedule_backdate_s = 1e12\n")

    assert str(error) == (
        f"site.toml:{CONTROL_LINE + 1}: control.start_schedule_backdate_s: must be at most"
        " 3600 s (got 1e+12 s): covers charger clocks behind ours; a clock wrong by more than"
        " an hour needs setting, not a longer backdate"
    )


def test_too_small_names_file_line_field_and_why() -> None:
    error = error_for("period_s = 0.01\n")

    assert str(error) == (
        f"site.toml:{CONTROL_LINE + 1}: control.period_s: must be at least 0.1 s (got 0.01 s):"
        " the controller answers a rise of the base load only at its next step; under 0.1 s"
        " it outruns every meter and charger"
    )


def test_zero_where_more_than_zero_is_needed() -> None:
    error = error_for("reaction_s = 2\nmeter_follow_s = 0\n")

    assert str(error) == (
        f"site.toml:{CONTROL_LINE + 2}: control.meter_follow_s: must be more than 0 s"
        " (got 0 s): the meter must show our chargers' change within this; beyond 10 minutes"
        " a frozen or blind meter is trusted that long"
    )


def test_an_integer_below_its_range() -> None:
    error = error_for("meter_recover_readings = 0\n")

    assert str(error) == (
        f"site.toml:{CONTROL_LINE + 1}: control.meter_recover_readings: must be at least 1"
        " (got 0): good readings in a row before a faulty meter is trusted again; more keeps"
        " the site conservative for minutes after a repaired fault"
    )


def test_validity_not_above_two_periods_names_validity() -> None:
    error = error_for("period_s = 10\nprofile_validity_s = 15\n")

    assert str(error) == (
        f"site.toml:{CONTROL_LINE + 2}: control.profile_validity_s: must be more than"
        " 2 x period_s = 20 s (got 15 s): a profile is refreshed up to two periods before it"
        " lapses"
    )


def test_a_long_period_against_the_default_validity_names_the_period() -> None:
    error = error_for("period_s = 200\n")

    assert str(error) == (
        f"site.toml:{CONTROL_LINE + 1}: control.period_s: must be less than"
        " profile_validity_s / 2 = 150 s (got 200 s): a profile is refreshed up to two"
        " periods before it lapses"
    )


def test_backdate_not_below_validity_names_the_backdate() -> None:
    error = error_for("profile_validity_s = 120\nstart_schedule_backdate_s = 120\n")

    assert str(error) == (
        f"site.toml:{CONTROL_LINE + 2}: control.start_schedule_backdate_s: must be less than"
        " profile_validity_s = 120 s (got 120 s): a backdate that long assumes charger clocks"
        " wrong by more than a profile lasts"
    )


def test_meter_follow_not_after_the_reaction_names_the_follow_time() -> None:
    error = error_for("reaction_s = 20\nmeter_follow_s = 20\n")

    assert error.field == "control.meter_follow_s"
    assert error.line == CONTROL_LINE + 2
    assert error.message.startswith("must be more than reaction_s = 20 s (got 20 s): ")


@pytest.mark.parametrize("name", sorted(CONTROL_BOUNDS))
def test_every_bound_is_enforced_at_both_ends(name: str) -> None:
    bound = CONTROL_BOUNDS[name]
    integer = str(ControlSettings.__dataclass_fields__[name].type) == "int"
    too_big = int(bound.high) + 1 if integer else bound.high * 1.5
    error = error_for(f"{name} = {too_big}\n")
    assert (error.field, error.line) == (f"control.{name}", CONTROL_LINE + 1)
    assert error.message.startswith("must be at most ")
    assert error.message.endswith(bound.why)
    if bound.low > 0 or bound.above_low:
        too_small = int(bound.low) - 1 if integer else bound.low / 2
        error = error_for(f"{name} = {too_small}\n")
        assert (error.field, error.line) == (f"control.{name}", CONTROL_LINE + 1)
        assert error.message.startswith(("must be at least ", "must be more than "))


def test_values_at_the_edges_of_their_ranges_load() -> None:
    control = "period_s = 0.1\nprofile_validity_s = 86400\nstart_schedule_backdate_s = 3600\n"
    control += "noncompliance_after_s = 600\nreaction_s = 60\nmeter_follow_s = 600\n"
    settings = parse_config(SITE + control, "site.toml").control

    assert settings.profile_validity_s == 86400
    assert settings.meter_follow_s == 600
