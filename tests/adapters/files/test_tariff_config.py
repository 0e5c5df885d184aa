"""`[tariff]`: read into a `Tariff`, written back, every mistake named by file, line and
field."""

from __future__ import annotations

import tomllib
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from adapters.files.config import parse_config
from adapters.files.errors import InputFileError, InputFileErrors
from adapters.files.price_file import PriceFields
from adapters.files.site_config import FieldReader
from adapters.files.tariff_config import (
    URL_REFRESH_S,
    PriceSource,
    parse_price_source,
    parse_tariff,
    tariff_toml,
)
from ems.tariff import Tariff, TimeOfUseRule

SITE = '[site]\nname = "x"\nlimit_a = 40\n'
TARIFF = """
[tariff]
price_per_kwh = 0.25
export_price_per_kwh = 0.08
demand_charge_per_kw = 12.5
timezone = "Europe/Amsterdam"

[[tariff.time_of_use]]
price_per_kwh = 0.4
hours = [17, 21]
weekdays = ["mon", "tue", "wed", "thu", "fri"]
months = [11, 12, 1, 2]
"""


def test_a_tariff_is_read_into_the_site() -> None:
    tariff = parse_config(SITE + TARIFF, "site.toml").site.tariff
    assert tariff == Tariff(
        fixed_price_per_kwh=0.25,
        rules=(TimeOfUseRule(0.4, 17, 21, frozenset(range(5)), frozenset({11, 12, 1, 2})),),
        export_price_per_kwh=0.08,
        demand_price_per_kw=12.5,
        timezone=ZoneInfo("Europe/Amsterdam"),
    )


def test_no_tariff_prices_nothing() -> None:
    assert parse_config(SITE, "site.toml").site.tariff == Tariff()


def test_a_tariff_is_written_back_as_read() -> None:
    tariff = parse_config(SITE + TARIFF, "site.toml").site.tariff
    text = SITE + "\n".join(tariff_toml(tariff))
    assert parse_config(text, "site.toml").site.tariff == tariff
    assert tariff_toml(Tariff()) == []
    assert parse_tariff(FieldReader("x", ""), None) == Tariff(timezone=UTC)


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ('timezone = "Europe/Amsterdam"', 'timezone = "Mars/Olympus"', 9, "tariff.timezone"),
        (
            "demand_charge_per_kw = 12.5",
            "demand_charge_per_kw = -1",
            8,
            "tariff.demand_charge_per_kw",
        ),
        ("price_per_kwh = 0.25", 'price_per_kwh = "cheap"', 6, "tariff.price_per_kwh"),
        ("hours = [17, 21]", "hours = [17, 25]", 13, "tariff.time_of_use[0].hours"),
        ('"thu", "fri"]', '"thu", "fry"]', 14, "tariff.time_of_use[0].weekdays"),
        ("months = [11, 12, 1, 2]", "months = [13]", 15, "tariff.time_of_use[0].months"),
        ("price_per_kwh = 0.4", "price = 0.4", 12, "tariff.time_of_use[0].price"),
    ],
)
def test_a_bad_tariff_names_file_line_and_field(old: str, new: str, line: int, field: str) -> None:
    text = SITE + TARIFF.replace(old, new)
    assert text != SITE + TARIFF
    with pytest.raises((InputFileError, InputFileErrors)) as caught:
        parse_config(text, "site.toml")
    rendered = str(caught.value)
    assert f"site.toml:{line}: {field}" in rendered


def test_every_mistake_is_reported_at_once() -> None:
    text = SITE + TARIFF.replace("12.5", "-1").replace("[17, 21]", "[3, 3]")
    with pytest.raises(InputFileErrors) as caught:
        parse_config(text, "site.toml")
    assert "tariff.demand_charge_per_kw" in str(caught.value)
    assert "tariff.time_of_use[0].hours" in str(caught.value)


LIVE = """
[tariff]
prices_url = "https://prices.example/day-ahead"
prices_list_field = "prices"
prices_time_field = "start"
prices_price_field = "price"
prices_scale = 0.001
prices_refresh_s = 600
"""


def test_a_price_url_is_where_the_live_controller_refreshes_from() -> None:
    reader = FieldReader("site.toml", LIVE)
    source = parse_price_source(reader, tomllib.loads(LIVE)["tariff"])

    assert source == PriceSource(
        PriceFields(time="start", price="price", items="prices", scale=0.001),
        600.0,
        url="https://prices.example/day-ahead",
    )
    assert source.name == "https://prices.example/day-ahead"
    assert parse_config(SITE + LIVE, "site.toml").site.tariff.series == ()


def test_a_price_url_is_fetched_every_15_minutes_by_default() -> None:
    text = LIVE.replace("prices_refresh_s = 600\n", "")
    source = parse_price_source(FieldReader("site.toml", text), tomllib.loads(text)["tariff"])
    assert source is not None
    assert source.refresh_s == URL_REFRESH_S == 900.0


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        (
            '"https://prices.example/day-ahead"',
            '"ftp://prices.example/day-ahead"',
            6,
            "tariff.prices_url",
            "expected an http:// or https:// URL",
        ),
        ("prices_refresh_s = 600", "prices_refresh_s = 0", 11, "tariff.prices_refresh_s", "> 0"),
        (
            'prices_url = "https://prices.example/day-ahead"',
            'prices_url = "https://prices.example/day-ahead"\nprices_file = "p.json"',
            6,
            "tariff.prices_url",
            "either prices_file or prices_url",
        ),
        (
            'prices_url = "https://prices.example/day-ahead"',
            "",
            11,
            "tariff.prices_refresh_s",
            "needs prices_file or prices_url",
        ),
    ],
)
def test_a_bad_price_source_names_file_line_and_field(
    old: str, new: str, line: int, field: str, message: str
) -> None:
    text = SITE + LIVE.replace(old, new)
    with pytest.raises(InputFileError) as caught:
        parse_config(text, "site.toml")
    rendered = str(caught.value)
    assert f"site.toml:{line}: {field}: " in rendered
    assert message in rendered
