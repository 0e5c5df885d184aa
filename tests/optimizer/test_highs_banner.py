"""No HiGHS banner on a CLI's standard output (`optimizer.highs_banner`)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
from optimizer.persistent import HIGHS
HIGHS()
HIGHS()
print("only this")
"""


def test_making_highs_instances_writes_nothing_to_stdout() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "only this\n"
