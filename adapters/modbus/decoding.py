"""Words read from a meter to quantities in A, V, W, Wh and Hz."""

from __future__ import annotations

import math
from collections.abc import Mapping

from adapters.modbus.codec import DataType, WordOrder, decode, raw_value
from adapters.modbus.register_map import Quantity, RegisterMap

Values = dict[Quantity, float | None]


def decode_values(register_map: RegisterMap, words: Mapping[int, int]) -> tuple[Values, list[str]]:
    """Every quantity of the map from `words` (wire address → register).

    A "not available" value (NaN, infinity, a sentinel of the map, a missing scale
    factor) gives None and a line in the returned list: it is a failed read, not zero.
    """
    values: Values = {}
    unavailable: list[str] = []
    for spec in register_map.registers:
        registers = [words[a] for a in range(spec.address, spec.address + spec.words)]
        values[spec.quantity] = None
        raw = raw_value(registers, spec.word_order)
        if raw in spec.not_available:
            unavailable.append(f"{spec.quantity} (raw {raw:#x})")
            continue
        number = decode(registers, spec.data_type, spec.word_order)
        if not math.isfinite(number):
            unavailable.append(f"{spec.quantity} ({number})")
            continue
        exponent = 0
        if spec.scale_factor_address is not None:
            word = words[spec.scale_factor_address]
            exponent = int(decode([word], DataType.INT16, WordOrder.BIG))
            if word in register_map.scale_factor_not_available or not -10 <= exponent <= 10:
                unavailable.append(f"{spec.quantity} (scale factor {word:#x})")
                continue
        values[spec.quantity] = number * spec.factor * 10.0**exponent
    return values, unavailable
