"""No HiGHS banner on a CLI's standard output (`adapters.solver_banner`)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
from adapters.solver_banner import silence_solver_banner
from optimizer.persistent import HIGHS
silence_solver_banner()
HIGHS()
HIGHS()
print("only this")
"""


def test_making_highs_instances_writes_nothing_to_stdout() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "only this\n"
