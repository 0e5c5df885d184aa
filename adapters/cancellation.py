"""Loops that stop when cancelled, whatever the libraries under them do.

On Python 3.11 `asyncio.wait_for` loses a cancellation that arrives in the same turn of
the event loop as the result it waits for: it returns the result, and the task that was
cancelled carries on (fixed in 3.12, CPython gh-86296). pymodbus waits for every answer
that way, so the meter poll loop went on polling after the runtime stopped it, and the
shutdown waited for it forever (seen under load). The task still counts the request
(`Task.cancelling`); a loop checks it after each such await.
"""

from __future__ import annotations

import asyncio


def raise_if_cancelled() -> None:
    """Raise CancelledError if the running task was asked to stop and has not yet."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
