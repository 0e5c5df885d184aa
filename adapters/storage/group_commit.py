"""One commit per message answered, whatever it wrote, and answers only after it.

A charger's message used to cost a commit per write: a StopTransaction with its
transaction data three, and every event logged one more (issue 18). Here the store's
writes gather in one open transaction (`Store.group_writes`) and `durable()` commits them
all, just before the answer goes out: "written before acknowledged" holds with one commit.
A profile is recorded and committed the same way before it is sent. Writes nobody
acknowledges (connections and bad input logged, operator commands finished) join the next
commit, or are committed on the event loop's next turn at the latest.

Grouping further was tried and left out. Answering the messages of one turn of the event
loop after one shared commit made every answer wait for the last message of the turn: when
a thousand chargers send in the same second, the median latency grew to the length of the
burst (measured). Sending the profiles of one control step after one shared commit delays
every profile by a turn, and a turn is longest in a boot storm, just when the fallbacks
must reach the chargers.

A failed commit is rolled back and raised: the message is answered with a CALLERROR (the
profile is not sent), and none of the writes grouped with it is in the store.
"""

from __future__ import annotations

import asyncio
import logging

from adapters.storage.repository import Store

LOG = logging.getLogger(__name__)


class GroupCommit:
    """Groups the writes of `store` while started (between `start` and `stop`)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._scheduled = False

    def start(self) -> None:
        """Group from now on; call on the event loop that will commit."""
        self._store.group_writes(self._opened)

    def stop(self) -> None:
        """Commit what is open and let every write commit on its own again."""
        self._store.group_writes(None)

    def durable(self) -> None:
        """Commit every write made so far (raise if that failed: none of them is kept)."""
        self._store.commit_group()

    def _opened(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._commit_unacknowledged)

    def _commit_unacknowledged(self) -> None:
        self._scheduled = False
        try:
            self._store.commit_group()
        except Exception as error:
            LOG.error("committing writes nobody waited for failed: %s", error)
