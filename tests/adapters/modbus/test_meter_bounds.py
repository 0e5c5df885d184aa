"""`[[meters]]` intervals and limits are bounded, with errors naming file, line, field and
why; the default frozen window turns a frozen meter untrusted within one control period."""

from __future__ import annotations

import tomllib

import pytest

from adapters.files.errors import InputFileError
from adapters.modbus.config import METER_BOUNDS, MeterSettings, parse_meters_section

SITE = """\
[[meters]]
id = "grid"
map = "sdm630"
host = "192.168.1.50"
"""
FIRST_KEY_LINE = SITE.count("\n") + 1
CONTROL_PERIOD_S = 10.0


def error_for(extra: str) -> InputFileError:
    text = SITE + extra
    with pytest.raises(InputFileError) as caught:
        parse_meters_section(tomllib.loads(text)["meters"], "site.toml", text)
    return caught.value


def test_defaults_lie_within_their_bounds_and_catch_a_frozen_meter_in_one_period() -> None:
    defaults = MeterSettings(id="grid", map="sdm630")
    for name, bound in METER_BOUNDS.items():
        assert bound.low < getattr(defaults, name) <= bound.high, name
    assert defaults.interval_s < defaults.frozen_after_s < CONTROL_PERIOD_S


def test_an_interval_too_long() -> None:
    error = error_for("interval_s = 1e12\n")

    assert str(error) == (
        f"site.toml:{FIRST_KEY_LINE}: meters[0].interval_s: must be at most 60 s"
        " (got 1e+12 s): one read per interval; faster loads the gateway for nothing,"
        " slower leaves every control step a stale reading"
    )


def test_a_timeout_too_long() -> None:
    error = error_for("interval_s = 30\ntimeout_s = 20\nfrozen_after_s = 40\n")

    assert str(error) == (
        f"site.toml:{FIRST_KEY_LINE + 1}: meters[0].timeout_s: must be at most 10 s"
        " (got 20 s): a request unanswered this long is a dead meter; waiting longer blocks"
        " the reader"
    )


def test_a_frozen_window_too_long() -> None:
    error = error_for("frozen_after_s = 3600\n")

    assert str(error) == (
        f"site.toml:{FIRST_KEY_LINE}: meters[0].frozen_after_s: must be at most 60 s"
        " (got 3600 s): a meter serving identical values is trusted this long; beyond a"
        " minute a dead meter hides a rising load"
    )


def test_a_nominal_voltage_too_small() -> None:
    error = error_for("nominal_voltage_v = 23\n")

    assert str(error) == (
        f"site.toml:{FIRST_KEY_LINE}: meters[0].nominal_voltage_v: must be at least 100 V"
        " (got 23 V): phase-to-neutral; 100 V (Japan) to 400 V covers every low-voltage grid"
    )


def test_a_frozen_window_not_longer_than_the_interval() -> None:
    error = error_for("interval_s = 5\nfrozen_after_s = 5\n")

    assert str(error) == (
        f"site.toml:{FIRST_KEY_LINE + 1}: meters[0].frozen_after_s: must be longer than"
        " interval_s = 5 s (got 5 s): a meter is frozen only when several reads in a row"
        " give the same values"
    )


def test_an_interval_past_the_default_frozen_window_names_the_interval() -> None:
    error = error_for("interval_s = 10\ntimeout_s = 1\n")

    assert str(error) == (
        f"site.toml:{FIRST_KEY_LINE}: meters[0].interval_s: must be shorter than"
        " frozen_after_s = 8 s (got 10 s): a meter is frozen only when several reads in a"
        " row give the same values"
    )


@pytest.mark.parametrize("name", sorted(METER_BOUNDS))
def test_every_bound_is_enforced(name: str) -> None:
    bound = METER_BOUNDS[name]
    error = error_for(f"{name} = {bound.high * 2}\n")

    assert (error.field, error.line) == (f"meters[0].{name}", FIRST_KEY_LINE)
    assert error.message.startswith("must be at most ")
    assert error.message.endswith(bound.why)
