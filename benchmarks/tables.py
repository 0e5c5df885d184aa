"""The benchmarks' printed tables: a title, text columns on the left, figures on the right."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table


def figure_table(title: str, headers: Iterable[str], text: Iterable[str]) -> Table:
    """A table with a column per header, left-aligned for the `text` headers (names,
    verdicts) and right-aligned for the rest (figures, so their digits line up)."""
    left = set(text)
    table = Table(title=title)
    for header in headers:
        table.add_column(header, justify="left" if header in left else "right")
    return table
