"""The dynamic price series from a file: CSV or JSON with a field mapping, every mistake
named by file, line and field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.files.config import load_config
from adapters.files.errors import InputFileError
from adapters.files.price_file import PriceFields, load_price_file
from optimizer.problem import PricePeriod

MIDNIGHT = datetime(2025, 10, 7, tzinfo=UTC)
ONE = datetime(2025, 10, 7, 1, tzinfo=UTC)
JSON = """{
  "prices": [
    {"start": "2025-10-07T00:00:00Z", "price": 92.5},
    {"start": "2025-10-07T01:00:00+00:00", "price": -4}
  ]
}
"""
FIELDS = PriceFields(time="start", price="price", items="prices", scale=0.001)


def test_csv(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text(
        "timestamp,price_per_kwh\n2025-10-07T00:00:00Z,0.21\n\n2025-10-07T01:00:00Z,0.19\n"
    )
    assert load_price_file(path, PriceFields()) == (
        PricePeriod(MIDNIGHT, 0.21),
        PricePeriod(ONE, 0.19),
    )


def test_json_with_a_field_mapping_and_a_scale(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(JSON)
    periods = load_price_file(path, FIELDS)
    assert [p.start for p in periods] == [MIDNIGHT, ONE]
    assert [p.price_per_kwh for p in periods] == pytest.approx([0.0925, -0.004])


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ('"price": -4', '"price": "cheap"', 4, "prices[1].price"),
        (
            '"start": "2025-10-07T01:00:00+00:00"',
            '"start": "2025-10-07T01:00"',
            4,
            "prices[1].start",
        ),
        ('"start": "2025-10-07T01:00:00+00:00"', '"begin": "x"', 4, "prices[1].start"),
        ("01:00:00+00:00", "00:00:00+00:00", 4, "prices[1].start"),
    ],
)
def test_a_bad_json_entry_names_its_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str
) -> None:
    path = tmp_path / "prices.json"
    path.write_text(JSON.replace(old, new))
    with pytest.raises(InputFileError) as caught:
        load_price_file(path, FIELDS)
    assert (caught.value.line, caught.value.field) == (line, field)
    assert str(caught.value).startswith(f"{path}:{line}: {field}: ")


def test_a_bad_csv_value_names_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("timestamp,price_per_kwh\n2025-10-07T00:00:00Z,0.21\n2025-10-07T01:00:00Z,\n")
    with pytest.raises(InputFileError) as caught:
        load_price_file(path, PriceFields())
    assert str(caught.value).startswith(f"{path}:3: column price_per_kwh: ")


def test_not_json_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text('{\n  "prices": [\n    {"start": }\n  ]\n}\n')
    with pytest.raises(InputFileError) as caught:
        load_price_file(path, FIELDS)
    assert caught.value.line == 3


def test_the_config_reads_the_series_beside_it(tmp_path: Path) -> None:
    (tmp_path / "day-ahead.json").write_text(JSON)
    config = tmp_path / "site.toml"
    tariff = (
        '[tariff]\nprices_file = "day-ahead.json"\nprices_time_field = "start"\n'
        'prices_price_field = "price"\nprices_list_field = "prices"\nprices_scale = 0.001\n'
    )
    config.write_text('[site]\nname = "x"\nlimit_a = 40\n\n' + tariff)
    loaded = load_config(config).site.tariff
    assert loaded.price_at(ONE) == pytest.approx(-0.004)
    config.write_text(config.read_text().replace("day-ahead.json", "missing.json"))
    with pytest.raises(InputFileError) as caught:
        load_config(config)
    assert str(caught.value).startswith(f"{config}:6: tariff.prices_file: no such file")
