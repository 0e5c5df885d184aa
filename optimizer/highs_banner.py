"""highspy writes a banner ("Running HiGHS ... Copyright ...") to stdout when a process
makes its first HiGHS instance, before any option (`output_flag`) can be set. On a CLI's
standard output — the demo's live table, `ems plan --json`, a CSV — it is noise or worse.
`swallow_banner` makes that first instance with stdout pointed at /dev/null; every later
one is silent with `output_flag` off."""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from typing import Any

import highspy

_lock = threading.Lock()
_swallowed = False


def swallow_banner() -> None:
    """Make the process's first HiGHS instance, its banner discarded; then nothing."""
    global _swallowed
    with _lock:
        if _swallowed:
            return
        _swallowed = True
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            make: Any = highspy.Highs
            make()
            ctypes.CDLL(None).fflush(None)  # the C library's buffer, before fd 1 is back
        finally:
            os.dup2(saved, 1)
            os.close(devnull)
            os.close(saved)
