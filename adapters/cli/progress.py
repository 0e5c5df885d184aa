"""A progress bar for the long runs of the command line (replays)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from ems.replay.engine import ProgressCallback

PROGRESS_MIN_STEPS = 1000
"""Runs shorter than this finish too fast for a progress bar to help."""


@contextmanager
def progress_bar(console: Console, label: str) -> Iterator[ProgressCallback | None]:
    """A progress bar for long runs on a terminal; nothing otherwise."""
    if not console.is_terminal:
        yield None
        return
    bar = Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task(label, total=None, visible=False)

    def update(done: int, total: int) -> None:
        if total >= PROGRESS_MIN_STEPS:
            bar.update(task, completed=done, total=total, visible=True)

    with bar:
        yield update
