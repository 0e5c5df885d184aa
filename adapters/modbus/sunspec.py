"""SunSpec discovery: find the `SunS` marker and walk the model chain to a meter model.

Layout: the two registers 0x5375 0x6E53 ("SunS") at a base address, then models one
after another, each `ID, L, L registers of points`, ended by ID 0xFFFF.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from adapters.modbus.register_map import SunSpecLayout

MARKER = [0x5375, 0x6E53]
END_OF_MODELS = 0xFFFF
MAX_MODELS = 64
"""Stop walking after this many models (a chain that never ends is a broken device)."""

ReadRegisters = Callable[[int, int], Awaitable[list[int] | None]]
"""Reads `count` registers at an address; None when the device answers with an
exception (nothing there). I/O errors propagate."""


async def find_meter_model(read: ReadRegisters, layout: SunSpecLayout) -> tuple[int, int] | None:
    """(wire address of the model's ID register, model id) of the first meter model
    listed in `layout`, or None if no base holds a SunSpec device with one."""
    for base in layout.bases:
        if await read(base, 2) != MARKER:
            continue
        address = base + 2
        for _ in range(MAX_MODELS):
            header = await read(address, 2)
            if header is None or header[0] == END_OF_MODELS:
                break
            model_id, length = header
            if model_id in layout.phases_by_model:
                return address, model_id
            address += 2 + length
    return None
