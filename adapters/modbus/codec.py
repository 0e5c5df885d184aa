"""Register words to numbers and back, for the data types and word orders meters use.

A Modbus register is one 16-bit word; wider values span consecutive registers. Within
a word the bytes are always big-endian (the Modbus rule); the order of the *words* is
the meter's choice (Carlo Gavazzi puts the least-significant word first).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from enum import StrEnum


class DataType(StrEnum):
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"

    @property
    def words(self) -> int:
        return _STRUCT[self][1]

    @property
    def is_float(self) -> bool:
        return self in (DataType.FLOAT32, DataType.FLOAT64)


class WordOrder(StrEnum):
    BIG = "big"
    """Most-significant word first (the common case)."""
    LITTLE = "little"
    """Least-significant word first (Carlo Gavazzi)."""


_STRUCT: dict[DataType, tuple[str, int]] = {
    DataType.INT16: (">h", 1),
    DataType.UINT16: (">H", 1),
    DataType.INT32: (">i", 2),
    DataType.UINT32: (">I", 2),
    DataType.INT64: (">q", 4),
    DataType.UINT64: (">Q", 4),
    DataType.FLOAT32: (">f", 2),
    DataType.FLOAT64: (">d", 4),
}


def _ordered(words: Sequence[int], word_order: WordOrder) -> list[int]:
    return list(reversed(words)) if word_order is WordOrder.LITTLE else list(words)


def raw_value(words: Sequence[int], word_order: WordOrder) -> int:
    """The words as one unsigned integer, most-significant word first (for sentinels)."""
    raw = 0
    for word in _ordered(words, word_order):
        raw = (raw << 16) | (word & 0xFFFF)
    return raw


def decode(words: Sequence[int], data_type: DataType, word_order: WordOrder) -> float:
    """The number the words hold (NaN stays NaN; the caller decides what it means)."""
    fmt, count = _STRUCT[data_type]
    if len(words) != count:
        raise ValueError(f"{data_type} needs {count} registers, got {len(words)}")
    data = b"".join(w.to_bytes(2, "big") for w in _ordered(words, word_order))
    value: float = struct.unpack(fmt, data)[0]
    return value


def encode(value: float, data_type: DataType, word_order: WordOrder) -> list[int]:
    """Words holding `value`; integers are rounded. Raises OverflowError if it does not fit."""
    fmt, count = _STRUCT[data_type]
    number: float | int = value
    if not data_type.is_float:
        if not math.isfinite(value):
            raise OverflowError(f"{value} cannot be held by {data_type}")
        number = round(value)
    try:
        data = struct.pack(fmt, number)
    except struct.error as error:
        raise OverflowError(f"{value} does not fit {data_type}") from error
    words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, 2 * count, 2)]
    return _ordered(words, word_order)


def encode_raw(raw: int, data_type: DataType, word_order: WordOrder) -> list[int]:
    """Words holding the unsigned bit pattern `raw` (to write a sentinel)."""
    count = data_type.words
    words = [(raw >> (16 * (count - 1 - i))) & 0xFFFF for i in range(count)]
    return _ordered(words, word_order)
