"""Settings of the whole test session."""

from __future__ import annotations

import gc

import pytest


def pytest_collection_finish(session: pytest.Session) -> None:
    """Move what collection left alive (every imported module, every collected test) out
    of the garbage collector's reach.

    Building a model through Pyomo once ended in a full `gc.collect()`, which walks every
    tracked object in the process. In a test session those are mostly pytest's and the
    imported libraries' and live to its end; walking them made each build some 0.15 s,
    most of a solve, and thousands of solves run. Frozen, they are skipped; what tests
    create is still collected as before. (The builds now collect only the youngest
    generation, `optimizer/persistent.py`; a full collection anywhere still gains.)
    """
    gc.collect()
    gc.freeze()
