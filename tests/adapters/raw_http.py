"""A request sent byte for byte, past any client library that would refuse odd bytes."""

from __future__ import annotations

import asyncio


async def status_of_raw_request(port: int, request: bytes, timeout_s: float = 10.0) -> int:
    """Send `request` as it is to 127.0.0.1:`port`; the status code of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout_s)
    finally:
        writer.close()
        await writer.wait_closed()
    return int(status_line.split()[1])
