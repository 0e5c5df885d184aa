"""Grouping a map's registers into as few read requests as the meter allows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ReadBlock:
    """One read request: `count` registers from wire address `address`."""

    address: int
    count: int

    def holds(self, address: int, words: int) -> bool:
        return self.address <= address and address + words <= self.address + self.count


def plan_blocks(
    spans: Iterable[tuple[int, int]], max_gap: int, max_block: int
) -> tuple[ReadBlock, ...]:
    """Merge (address, words) spans into blocks.

    Spans join a block when the gap to it is at most `max_gap` registers (some meters
    refuse reads that cover undefined registers: their maps keep `max_gap = 0`) and the
    block stays within `max_block` registers (Modbus allows at most 125 per request).
    """
    blocks: list[ReadBlock] = []
    for address, words in sorted(set(spans)):
        if blocks:
            last = blocks[-1]
            end = last.address + last.count
            new_end = max(end, address + words)
            if address - end <= max_gap and new_end - last.address <= max_block:
                blocks[-1] = ReadBlock(last.address, new_end - last.address)
                continue
        blocks.append(ReadBlock(address, words))
    return tuple(blocks)
