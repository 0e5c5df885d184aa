"""`[tariff]` of a config file or a scenario's site.toml: what the site's power costs.

```toml
[tariff]
price_per_kwh = 0.30            # fixed import price (optional)
export_price_per_kwh = 0.08     # feed-in price (default 0)
demand_charge_per_kw = 12.0     # per kW of the month's highest 15-min average import
demand_window_min = 15
timezone = "Europe/Amsterdam"   # the time-of-use rules and billing months (default UTC)
prices_file = "day-ahead.json"  # a dynamic series, wins where it covers (see price_file);
                                # `ems run` reads it again when it changes
prices_url = "https://prices.example/day-ahead"  # or: fetched as JSON (instead of a file)
prices_refresh_s = 900          # how often the url is fetched / the file looked at
                                # (default 900 for a url, 60 for a file)
prices_time_field = "start"     # its field names (default "timestamp", "price_per_kwh")
prices_price_field = "price"
prices_list_field = "prices"    # JSON: the list's key in an object (default: the list)
prices_scale = 0.001            # e.g. per MWh to per kWh (default 1)

[[tariff.time_of_use]]          # the first rule that matches wins, else the fixed price
price_per_kwh = 0.40
hours = [17, 21]                # from 17:00 to 21:00 local; [22, 6] wraps past midnight
weekdays = ["mon", "tue", "wed", "thu", "fri"]   # default every day
months = [11, 12, 1, 2]         # a season; default every month
```

A scenario's `prices.csv` is the dynamic (day-ahead) series on top of these.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.files.errors import Problems
from adapters.files.price_file import PriceFields, load_price_file
from adapters.files.site_config import FieldReader
from ems.tariff import ALL_MONTHS, ALL_WEEKDAYS, DEMAND_WINDOW_S, HOURS_PER_DAY, Tariff
from ems.tariff import TimeOfUseRule as Rule
from optimizer.problem import PricePeriod

TARIFF_KEYS = (
    "price_per_kwh",
    "export_price_per_kwh",
    "demand_charge_per_kw",
    "demand_window_min",
    "timezone",
    "time_of_use",
    "prices_file",
    "prices_time_field",
    "prices_price_field",
    "prices_list_field",
    "prices_scale",
    "prices_url",
    "prices_refresh_s",
)
_RULE_KEYS = ("price_per_kwh", "hours", "weekdays", "months")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SECONDS_PER_MINUTE = 60.0
FILE_REFRESH_S = 60.0
"""How often `ems run` looks whether the prices file changed, by default."""
URL_REFRESH_S = 900.0
"""How often `ems run` fetches the prices URL, by default."""
URL_SCHEMES = ("http://", "https://")


@dataclass(frozen=True)
class PriceSource:
    """Where the live controller refreshes the dynamic price series from, every
    `refresh_s`: a file (read again when it changed) or a URL answering JSON."""

    fields: PriceFields
    refresh_s: float
    path: Path | None = None
    url: str | None = None

    @property
    def name(self) -> str:
        """The file or URL, as the status page and the log name it."""
        return self.url if self.url is not None else str(self.path)


def parse_tariff(reader: FieldReader, value: object) -> Tariff:
    """The `[tariff]` table; an absent one prices nothing."""
    if value is None:
        return Tariff()
    table = reader.table(value, "tariff")
    reader.check_keys(table, TARIFF_KEYS, "tariff")
    problems = Problems()
    fixed = problems.attempt(lambda: _price(reader, table, "price_per_kwh", "tariff"), None)
    export = problems.attempt(
        lambda: reader.number(table, "export_price_per_kwh", "tariff", default=0.0), 0.0
    )
    demand = problems.attempt(
        lambda: reader.number(table, "demand_charge_per_kw", "tariff", default=0.0), 0.0
    )
    window_min = problems.attempt(
        lambda: reader.number(
            table,
            "demand_window_min",
            "tariff",
            default=DEMAND_WINDOW_S / SECONDS_PER_MINUTE,
            positive=True,
        ),
        DEMAND_WINDOW_S / SECONDS_PER_MINUTE,
    )
    zone = problems.attempt(lambda: _timezone(reader, table), UTC)
    rules = problems.attempt(lambda: _rules(reader, table.get("time_of_use", [])), ())
    source = problems.attempt(lambda: parse_price_source(reader, table), None)
    series = problems.attempt(lambda: _series(reader, source), ())
    problems.raise_any()
    return Tariff(
        fixed_price_per_kwh=fixed,
        rules=rules,
        series=series,
        export_price_per_kwh=export,
        demand_price_per_kw=demand,
        demand_window_s=window_min * SECONDS_PER_MINUTE,
        timezone=zone,
    )


def _price(reader: FieldReader, table: Mapping[str, Any], key: str, prefix: str) -> float | None:
    """A price may be negative (day-ahead markets go below zero), never infinite."""
    if key not in table:
        return None
    value = table[key]
    field = f"{prefix}.{key}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise reader.error(field, f"expected a number, got {value!r}")
    if not math.isfinite(value):
        raise reader.error(field, f"must be a finite number (got {value})")
    return float(value)


def _series(reader: FieldReader, source: PriceSource | None) -> tuple[PricePeriod, ...]:
    """The prices file read now. (A URL is only fetched by the live controller,
    `adapters.runtime.price_feed`.)"""
    if source is None or source.path is None:
        return ()
    if not source.path.is_file():
        raise reader.error("tariff.prices_file", f"no such file: {source.path}")
    return load_price_file(source.path, source.fields)


def _fields(reader: FieldReader, table: Mapping[str, Any]) -> PriceFields:
    return PriceFields(
        time=reader.optional_string(table, "prices_time_field", "tariff") or "timestamp",
        price=reader.optional_string(table, "prices_price_field", "tariff") or "price_per_kwh",
        items=reader.optional_string(table, "prices_list_field", "tariff"),
        scale=reader.number(table, "prices_scale", "tariff", default=1.0, positive=True),
    )


def parse_price_source(reader: FieldReader, value: object) -> PriceSource | None:
    """Where `[tariff]` has the live controller refresh the price series from (a file is
    relative to the config's folder); None when it names neither a `prices_file` nor a
    `prices_url`."""
    if value is None:
        return None
    table = reader.table(value, "tariff")
    name = reader.optional_string(table, "prices_file", "tariff")
    url = reader.optional_string(table, "prices_url", "tariff")
    if name is not None and url is not None:
        raise reader.error("tariff.prices_url", "give either prices_file or prices_url, not both")
    if name is None and url is None:
        if "prices_refresh_s" in table:
            raise reader.error("tariff.prices_refresh_s", "needs prices_file or prices_url")
        return None
    if url is not None and not url.startswith(URL_SCHEMES):
        raise reader.error("tariff.prices_url", f"expected an http:// or https:// URL, got {url!r}")
    default_s = URL_REFRESH_S if url is not None else FILE_REFRESH_S
    refresh_s = reader.number(table, "prices_refresh_s", "tariff", default=default_s, positive=True)
    path = None if name is None else Path(reader.path).parent / name
    return PriceSource(_fields(reader, table), refresh_s, path=path, url=url)


def _timezone(reader: FieldReader, table: Mapping[str, Any]) -> tzinfo:
    name = reader.optional_string(table, "timezone", "tariff") or "UTC"
    if name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise reader.error(
            "tariff.timezone", f"unknown time zone {name!r} (e.g. 'Europe/Berlin')"
        ) from None


def _rules(reader: FieldReader, value: object) -> tuple[Rule, ...]:
    problems = Problems()
    rules: list[Rule] = []
    for i, table in enumerate(reader.tables(value, "tariff.time_of_use")):
        with problems.collecting():
            rules.append(_rule(reader, table, f"tariff.time_of_use[{i}]"))
    problems.raise_any()
    return tuple(rules)


def _rule(reader: FieldReader, table: Mapping[str, Any], prefix: str) -> Rule:
    reader.check_keys(table, _RULE_KEYS, prefix)
    price = _price(reader, table, "price_per_kwh", prefix)
    if price is None:
        reader.required(table, "price_per_kwh", prefix)
        raise AssertionError("required raised")
    from_hour, to_hour = _hours(reader, table.get("hours", [0, HOURS_PER_DAY]), f"{prefix}.hours")
    weekdays = _weekdays(reader, table.get("weekdays"), f"{prefix}.weekdays")
    months = _months(reader, table.get("months"), f"{prefix}.months")
    return Rule(price, from_hour, to_hour, weekdays, months)


def _hours(reader: FieldReader, value: object, field: str) -> tuple[int, int]:
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(h, int) and not isinstance(h, bool) for h in value)
    )
    if not ok or not isinstance(value, list):
        raise reader.error(field, f"expected [from, to] in whole hours, got {value!r}")
    start, end = value
    if not (0 <= start < HOURS_PER_DAY and 0 <= end <= HOURS_PER_DAY) or start == end:
        raise reader.error(
            field, f"hours go from 0 to 24 and the two must differ (got [{start}, {end}])"
        )
    return int(start), int(end)


def _weekdays(reader: FieldReader, value: object, field: str) -> frozenset[int]:
    if value is None:
        return ALL_WEEKDAYS
    if not isinstance(value, list) or not value:
        raise reader.error(field, f'expected a list like ["mon", "fri"], got {value!r}')
    days: set[int] = set()
    for day in value:
        name = day.lower()[:3] if isinstance(day, str) else None
        if name not in WEEKDAYS:
            raise reader.error(field, f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
        days.add(WEEKDAYS.index(name))
    return frozenset(days)


def _months(reader: FieldReader, value: object, field: str) -> frozenset[int]:
    if value is None:
        return ALL_MONTHS
    if not isinstance(value, list) or not value:
        raise reader.error(field, f"expected a list of months 1 to 12, got {value!r}")
    for month in value:
        if isinstance(month, bool) or not isinstance(month, int) or month not in ALL_MONTHS:
            raise reader.error(field, f"a month is 1 to 12 (got {month!r})")
    return frozenset(value)


def tariff_toml(tariff: Tariff) -> list[str]:
    """`[tariff]` as lines `parse_tariff` reads back (none for a tariff pricing nothing);
    the dynamic series is not here but in the scenario's `prices.csv`."""
    tariff = replace(tariff, series=())
    if tariff == Tariff():
        return []
    lines = ["", "[tariff]"]
    if tariff.fixed_price_per_kwh is not None:
        lines.append(f"price_per_kwh = {tariff.fixed_price_per_kwh!r}")
    lines.append(f"export_price_per_kwh = {tariff.export_price_per_kwh!r}")
    lines.append(f"demand_charge_per_kw = {tariff.demand_price_per_kw!r}")
    lines.append(f"demand_window_min = {tariff.demand_window_s / SECONDS_PER_MINUTE!r}")
    lines.append(f'timezone = "{tariff.timezone}"')
    for rule in tariff.rules:
        lines += ["", "[[tariff.time_of_use]]", f"price_per_kwh = {rule.price_per_kwh!r}"]
        lines.append(f"hours = [{rule.from_hour}, {rule.to_hour}]")
        if rule.weekdays != ALL_WEEKDAYS:
            days = ", ".join(f'"{WEEKDAYS[d]}"' for d in sorted(rule.weekdays))
            lines.append(f"weekdays = [{days}]")
        if rule.months != ALL_MONTHS:
            lines.append(f"months = [{', '.join(str(m) for m in sorted(rule.months))}]")
    return lines
