"""highspy writes a banner ("Running HiGHS ... Copyright ...") to file descriptor 1 when a
process makes its first HiGHS instance, before any option (`output_flag`) can be set. On a
CLI's standard output — the demo's live table, `ems plan --json`, a CSV — it is noise or
worse. Each process that solves calls `silence_solver_banner` first (the CLI, the control
worker process): it makes that first instance with fd 1 pointed at /dev/null, and every
later one is silent with `output_flag` off."""

from __future__ import annotations

import ctypes
import os
import sys
from typing import Any


def silence_solver_banner() -> None:
    """Make the process's first HiGHS instance, its banner discarded."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        solver_type: Any = highspy.Highs
        solver_type()
        ctypes.CDLL(None).fflush(None)  # the C library's buffer, before fd 1 is back
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
