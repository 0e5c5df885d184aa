"""Register maps as data: the shipped ones load, addresses and units convert, and a
broken map file is reported with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.files.errors import InputFileError
from adapters.modbus.blocks import ReadBlock, plan_blocks
from adapters.modbus.codec import DataType, WordOrder, decode, encode, encode_raw, raw_value
from adapters.modbus.register_map import Measures, Quantity, load_map, shipped_map_names


def test_the_issue_asks_for_these_maps() -> None:
    assert set(shipped_map_names()) >= {
        "sdm630",
        "sdm72d_m2",
        "em24_e1",
        "em340",
        "janitza_umg",
        "siemens_pac2200",
        "abb_b23",
        "schneider_iem3000",
        "sunspec",
    }


@pytest.mark.parametrize("name", shipped_map_names())
def test_every_shipped_map_has_the_core_quantities(name: str) -> None:
    register_map = load_map(name)

    # an inverter's models have no phase powers; its total power is its production
    power = Quantity.POWER_L1 if register_map.measures is Measures.GRID else Quantity.TOTAL_POWER
    assert {Quantity.CURRENT_L1, power, Quantity.VOLTAGE_L1} <= register_map.quantities
    assert all(b.count <= register_map.max_block for b in register_map.blocks())


def test_one_based_manual_numbers_and_kilowatts() -> None:
    schneider = load_map("schneider_iem3000")

    current = schneider.spec(Quantity.CURRENT_L1)
    power = schneider.spec(Quantity.TOTAL_POWER)
    assert current is not None
    assert current.address == 2999
    assert power is not None
    assert power.factor == 1000.0


def test_least_significant_word_first() -> None:
    em24 = load_map("em24_e1")
    spec = em24.spec(Quantity.POWER_L1)
    assert spec is not None
    assert spec.word_order is WordOrder.LITTLE

    assert decode([0x0002, 0x0001], DataType.INT32, WordOrder.LITTLE) == 0x00010002
    assert encode(-2, DataType.INT32, WordOrder.LITTLE) == [0xFFFE, 0xFFFF]


@pytest.mark.parametrize("data_type", list(DataType))
@pytest.mark.parametrize("order", list(WordOrder))
def test_codec_round_trip(data_type: DataType, order: WordOrder) -> None:
    value = 1234.5 if data_type.is_float else (-1234 if "u" not in data_type.value else 1234)

    assert decode(encode(value, data_type, order), data_type, order) == value


def test_sentinel_raw_value() -> None:
    words = encode_raw(0x80000000, DataType.INT32, WordOrder.LITTLE)

    assert words == [0x0000, 0x8000]
    assert raw_value(words, WordOrder.LITTLE) == 0x80000000


def test_blocks_join_within_the_gap_and_size() -> None:
    spans = [(0, 2), (2, 2), (10, 2), (40, 2)]

    assert plan_blocks(spans, max_gap=0, max_block=125) == (
        ReadBlock(0, 4),
        ReadBlock(10, 2),
        ReadBlock(40, 2),
    )
    assert plan_blocks(spans, max_gap=6, max_block=125) == (ReadBlock(0, 12), ReadBlock(40, 2))
    assert plan_blocks(spans, max_gap=40, max_block=20) == (ReadBlock(0, 12), ReadBlock(40, 2))


MINIMAL = """\
name = "mine"
function_code = 4
address_base = 30001
[registers]
current_l1 = { address = 30007 }
"""


def _map_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    return str(path)


def test_thirty_thousand_style_numbers(tmp_path: Path) -> None:
    register_map = load_map(_map_file(tmp_path, MINIMAL))

    spec = register_map.spec(Quantity.CURRENT_L1)
    assert spec is not None
    assert spec.address == 6


@pytest.mark.parametrize(
    ("old", "new", "field", "line"),
    [
        ("address = 30007", "address = 7", "registers.current_l1", 5),
        ("function_code = 4", "function_code = 3", "address_base", 3),
        ("current_l1 =", "current_l4 =", "registers.current_l4", 5),
        ("{ address = 30007 }", '{ address = 30007, type = "float16" }', "registers.current_l1", 5),
        ("address_base = 30001", 'address_base = 30001\nword_order = "middle"', "word_order", 4),
        ("{ address = 30007 }", '{ address = 30007, unit = "kW" }', "registers.current_l1", 5),
    ],
)
def test_map_errors_name_line_and_field(
    tmp_path: Path, old: str, new: str, field: str, line: int | None
) -> None:
    path = _map_file(tmp_path, MINIMAL.replace(old, new))
    with pytest.raises(InputFileError) as caught:
        load_map(path)

    assert caught.value.field == field
    assert caught.value.line == line
    assert str(caught.value).startswith(path)


def test_value_and_scale_factor_must_share_a_request(tmp_path: Path) -> None:
    text = MINIMAL.replace("{ address = 30007 }", "{ address = 30007, scale_factor = 30050 }")
    with pytest.raises(InputFileError, match="one request"):
        load_map(_map_file(tmp_path, text))
