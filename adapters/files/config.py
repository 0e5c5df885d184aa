"""The live config file: one TOML document for the whole controller.

`load_config` reads the file and validates the sections the controller core needs —
the site (`[site]`, `[[circuits]]`, `[[chargers]]`, see `site_config`) and the control
loop tuning (`[control]`) — into typed objects. The sections of the other edges
(`[ocpp]`, `[[meters]]`, `[http]`, `[store]`) are kept as parsed data in
`LoadedConfig.data` for their own parsers; any other top-level key is an error.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.files.errors import InputFileError, Problems, read_text
from adapters.files.grid_caps import grid_caps_path, load_grid_caps
from adapters.files.site_config import (
    SITE_SECTIONS,
    TOKEN_MODES_SECTION,
    FieldReader,
    parse_site,
    parse_token_modes,
)
from adapters.files.tariff_config import parse_tariff
from ems.site import ControlSettings, SiteConfig

OTHER_SECTIONS = ("ocpp", "meters", "http", "store")
"""Top-level keys parsed by other adapters; accepted here without validation."""
CONFIG_SECTIONS = (*SITE_SECTIONS, "control", "tariff", TOKEN_MODES_SECTION, *OTHER_SECTIONS)
"""Every top-level key of a config file."""

_TOML_POSITION = re.compile(r"at line (\d+)")
_CONTROL_FIELDS = {f.name: f for f in dataclasses.fields(ControlSettings)}


@dataclass(frozen=True)
class Bound:
    """The range a config number must lie in, and why a real site never needs more.

    Safety rests on these numbers (how long a charger keeps a limit, how old a meter
    reading may be), so a typo like `profile_validity_s = 3e6` must stop the start rather
    than leave chargers on a stale limit for a month. Used for `[control]` here and for
    `[[meters]]` by `adapters.modbus.config`.
    """

    low: float
    high: float
    why: str
    above_low: bool = False
    """The value must be strictly above `low` (0 would stall or switch a check off)."""


CONTROL_BOUNDS: Mapping[str, Bound] = {
    "period_s": Bound(
        0.1,
        300,
        "the controller answers a rise of the base load only at its next step;"
        " under 0.1 s it outruns every meter and charger",
    ),
    "meter_stale_s": Bound(
        0.5,
        300,
        "a reading this old still stands for the present base load;"
        " under 0.5 s a healthy meter's readings arrive stale",
    ),
    "meter_recover_readings": Bound(
        1,
        100,
        "good readings in a row before a faulty meter is trusted again;"
        " more keeps the site conservative for minutes after a repaired fault",
    ),
    "deadband_a": Bound(
        0,
        10,
        "limit changes within it are not sent (but raises where a shared limit binds);"
        " a wider one stops limits following the plan",
    ),
    "deadband_pct": Bound(
        0,
        50,
        "limit changes within it are not sent (but raises where a shared limit binds);"
        " a wider one stops limits following the plan",
    ),
    "min_update_interval_s": Bound(
        0,
        3600,
        "a raise waits this long after the last one;"
        " no session should wait more than an hour for room already free",
    ),
    "pause_dwell_s": Bound(
        0,
        3600,
        "a paused EV stays paused this long; more than an hour strands it",
    ),
    "profile_validity_s": Bound(
        10,
        86400,
        "chargers keep a session limit this long after the controller stops; beyond a day"
        " it outlives the load it was computed for, under 10 s chargers do nothing but"
        " replace profiles",
    ),
    "start_schedule_backdate_s": Bound(
        0,
        3600,
        "covers charger clocks behind ours;"
        " a clock wrong by more than an hour needs setting, not a longer backdate",
    ),
    "taper_margin_a": Bound(
        0,
        32,
        "a tapering EV keeps its draw plus this;"
        " above 32 A (the largest AC connector) the taper frees nothing",
    ),
    "taper_detect_s": Bound(
        0,
        3600,
        "an EV drawing less this long has its bound lowered; beyond an hour tapering is never seen",
    ),
    "probe_interval_s": Bound(
        0,
        3600,
        "a tapered session's bound is lifted this often;"
        " beyond an hour it stays starved after it could draw more",
    ),
    "noncompliance_tolerance_a": Bound(
        0,
        10,
        "overdraw up to this is taken for measurement error;"
        " more than 10 A is a charger ignoring its limit",
    ),
    "noncompliance_after_s": Bound(
        0,
        600,
        "a charger overdrawing this long is counted at its maximum;"
        " no ignored limit may go unaccounted for more than 10 minutes",
    ),
    "max_schedule_periods": Bound(
        1,
        1024,
        "periods in one charging schedule;"
        " chargers accept a few dozen (ChargingScheduleMaxPeriods)",
    ),
    "meter_max_factor": Bound(
        1.6,
        10,
        "a reading above this many times limit_a is implausible; a gG fuse carries"
        " 1.6 x its rating for an hour (IEC 60269), so a real overload up to that must"
        " count, and beyond 10 x a reading is a decoding error, not a load",
    ),
    "sample_stale_s": Bound(
        0,
        900,
        "a charger's meter sample this old still counts as its draw;"
        " a quarter hour is the longest sample interval chargers use",
    ),
    "ev_phase_detect_a": Bound(
        0.5,
        6,
        "an EV drawing this much on a phase uses it; above 6 A (the IEC 61851 minimum)"
        " an EV at its minimum goes unseen, under 0.5 A meter noise looks like a load",
    ),
    "horizon_steps": Bound(
        0,
        672,
        "steps of look-ahead; 672 quarter hours is a week, and the plan grows with each",
    ),
    "horizon_step_s": Bound(
        60,
        3600,
        "one step of the look-ahead; under a minute chargers cannot follow,"
        " over an hour it averages away the peaks it plans around",
    ),
    "reaction_s": Bound(
        0,
        60,
        "an EV may draw its old limit this long after a lowering (IEC 61851 gives 5 s);"
        " a charger needing more than a minute is broken",
    ),
    "meter_agree_tolerance_a": Bound(
        0,
        100,
        "the site meter may read this much less than our chargers report;"
        " beyond 100 A a meter blind to them is still trusted",
    ),
    "meter_follow_step_a": Bound(
        0,
        100,
        "a change of our chargers' draw this large must show on the meter;"
        " beyond 100 A the check never runs",
        above_low=True,
    ),
    "meter_follow_s": Bound(
        0,
        600,
        "the meter must show our chargers' change within this;"
        " beyond 10 minutes a frozen or blind meter is trusted that long",
        above_low=True,
    ),
    "base_fall_hold_s": Bound(
        0,
        600,
        "a fall of the base load is used once it held this long;"
        " beyond 10 minutes a building's freed room waits too long",
    ),
    "unknown_charger_max_a": Bound(
        0,
        1000,
        "an unconfigured charger is counted at this per phase;"
        " no AC charger draws more than 1000 A",
    ),
    "solar_enable_delay_s": Bound(
        0,
        3600,
        "a solar session starts once the surplus paid its minimum this long;"
        " beyond an hour a sunny day is half gone before it starts",
    ),
    "solar_disable_delay_s": Bound(
        0,
        3600,
        "a solar session charges from the grid at its minimum this long after the surplus"
        " fell short; beyond an hour that is grid charging, not solar",
    ),
}
"""Range of every number in `[control]`, with why (shown in the error)."""


@dataclass(frozen=True)
class Relation:
    """`field` must be more (`above`) or less than `factor` × `other`."""

    field: str
    above: bool
    factor: float
    other: str
    why: str


CONTROL_RELATIONS = (
    Relation(
        "profile_validity_s",
        True,
        2.0,
        "period_s",
        "a profile is refreshed up to two periods before it lapses",
    ),
    Relation(
        "start_schedule_backdate_s",
        False,
        1.0,
        "profile_validity_s",
        "a backdate that long assumes charger clocks wrong by more than a profile lasts",
    ),
    Relation(
        "meter_follow_s",
        True,
        1.0,
        "reaction_s",
        "the meter cannot show a change before the EVs have made it",
    ),
)
"""Cross-field rules of `[control]`, checked after every value is in range."""


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config file, with the raw document for the other edges' parsers."""

    path: Path
    text: str
    data: Mapping[str, Any]
    site: SiteConfig
    control: ControlSettings


def load_config(path: Path | str) -> LoadedConfig:
    """Read and validate a config file; every problem is an `InputFileError`."""
    path = Path(path)
    return parse_config(read_text(path), path)


def parse_config(text: str, path: Path | str) -> LoadedConfig:
    """Validate the controller's sections of config `text`, reporting every mistake."""
    data = parse_toml(text, path)
    FieldReader(path, text).check_keys(data, CONFIG_SECTIONS, "")
    return controller_part(data, path, text)


def controller_part(data: Mapping[str, Any], path: Path | str, text: str) -> LoadedConfig:
    """Validate the site, `[tariff]` and `[control]` of a parsed config, reporting every
    mistake."""
    problems = Problems()
    site = problems.attempt(lambda: parse_site(data, path, text), None)
    reader = FieldReader(path, text)
    tariff = problems.attempt(lambda: parse_tariff(reader, data.get("tariff")), None)
    control = problems.attempt(lambda: parse_control(data.get("control", {}), path, text), None)
    token_modes = problems.attempt(
        lambda: parse_token_modes(reader, data.get(TOKEN_MODES_SECTION)), ()
    )
    problems.raise_any()
    assert site is not None, "raise_any raised otherwise"
    assert tariff is not None, "raise_any raised otherwise"
    assert control is not None, "raise_any raised otherwise"
    caps_path = grid_caps_path(reader, data["site"])
    caps = () if caps_path is None else load_grid_caps(caps_path, site.limits)
    site = dataclasses.replace(site, tariff=tariff, token_modes=token_modes, grid_caps=caps)
    return LoadedConfig(Path(path), text, data, site, control)


def parse_toml(text: str, path: Path | str) -> dict[str, Any]:
    """Parse TOML text, turning a syntax error into an `InputFileError` with its line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = _TOML_POSITION.search(message)
        line = int(match.group(1)) if match else None
        raise InputFileError(path, f"not valid TOML: {message}", line) from error


def parse_control(value: object, path: Path | str, text: str) -> ControlSettings:
    """Validate `[control]` into `ControlSettings`; absent keys keep their defaults.

    The accepted keys and their types follow the fields of `ControlSettings`, so a setting
    added there is configurable here without further code; its range goes in
    `CONTROL_BOUNDS` (a test fails for a number without one). Every key in error is
    reported; the cross-field rules only once every key is right.
    """
    reader = FieldReader(path, text)
    table = reader.table(value, "control")
    problems = Problems()
    problems.attempt(lambda: reader.check_keys(table, _CONTROL_FIELDS, "control"), None)
    values: dict[str, Any] = {}
    for key in (key for key in table if key in _CONTROL_FIELDS):
        with problems.collecting():
            values[key] = _control_value(reader, table, key)
    problems.raise_any()
    settings = ControlSettings(**values)
    for relation in CONTROL_RELATIONS:
        _check_relation(reader, table, settings, relation)
    return settings


def _control_value(reader: FieldReader, table: Mapping[str, Any], key: str) -> object:
    kind = str(_CONTROL_FIELDS[key].type)
    bound = CONTROL_BOUNDS.get(key)
    if kind == "int":
        number: float = reader.integer(table, key, "control")
    elif kind == "float":
        number = reader.number(table, key, "control")
    elif kind == "str | None":
        return reader.string(table, key, "control")
    elif kind == "bool":
        return reader.boolean(table, key, "control", default=False)
    else:
        raise reader.error(f"control.{key}", f"setting of unsupported type {kind}")
    if bound is not None:
        _check_bound(reader, key, number, bound)
    return number


def _check_bound(reader: FieldReader, key: str, number: float, bound: Bound) -> None:
    problem = bound_problem(key, number, bound)
    if problem is not None:
        raise reader.error(f"control.{key}", problem)


def bound_problem(key: str, number: float, bound: Bound) -> str | None:
    """What is wrong with setting `key` = `number` against `bound`, saying why the range
    (None when it is in range). Shared with the edges' sections (`[[meters]]`)."""
    if number < bound.low or (bound.above_low and number <= bound.low):
        wanted = "more than" if bound.above_low else "at least"
        limit = bound.low
    elif number > bound.high:
        wanted, limit = "at most", bound.high
    else:
        return None
    return f"must be {wanted} {_amount(limit, key)} (got {_amount(number, key)}): {bound.why}"


def _check_relation(
    reader: FieldReader, table: Mapping[str, Any], settings: ControlSettings, rule: Relation
) -> None:
    """Raise for a broken cross-field rule, naming the field the file sets (`rule.field`
    unless only `rule.other` is in the file, so the line points at what to change)."""
    value = float(getattr(settings, rule.field))
    other = float(getattr(settings, rule.other))
    limit = rule.factor * other
    if (value > limit) if rule.above else (value < limit):
        return
    if rule.field in table or rule.other not in table:
        key, got, compared, scaled = rule.field, value, limit, _scaled(rule.factor, rule.other)
        wanted = "more" if rule.above else "less"
    else:
        key, got, compared = rule.other, other, value / rule.factor
        scaled = rule.field if rule.factor == 1 else f"{rule.field} / {rule.factor:g}"
        wanted = "less" if rule.above else "more"
    message = (
        f"must be {wanted} than {scaled} = {_amount(compared, key)}"
        f" (got {_amount(got, key)}): {rule.why}"
    )
    raise reader.error(f"control.{key}", message)


def _scaled(factor: float, name: str) -> str:
    return name if factor == 1 else f"{factor:g} x {name}"


_UNITS = (("_s", " s"), ("_a", " A"), ("_v", " V"), ("_pct", " %"))


def _amount(number: float, key: str) -> str:
    """`300 s`, `6 A`, `5 %`, or a bare number, for a setting named by its unit."""
    unit = next((text for suffix, text in _UNITS if key.endswith(suffix)), "")
    return f"{number:g}{unit}"
