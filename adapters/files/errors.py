"""Errors in input files that name the file, the line and the field.

Every loader of a config or scenario file raises `InputFileError`; the CLI prints it as
`site.toml:12: chargers[1].connectors[0].max_current_a: must be > 0 (got -3)` and exits 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass
class InputFileError(Exception):
    """A problem in an input file, located as precisely as we can."""

    path: Path | str
    message: str
    line: int | None = None
    field: str | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.column is not None:
            parts.append(f"column {self.column}")
        if self.field is not None:
            parts.append(self.field)
        return ": ".join(parts) + f": {self.message}"


_TABLE = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"']+)\s*=")
_INDEX = re.compile(r"\[(\d+)\]")


def toml_line_of(text: str, field: str) -> int | None:
    """Best-effort 1-based line number of a dotted field path in TOML text.

    `field` looks like `site.limit_a` or `chargers[1].connectors[0].max_current_a`, where
    `[n]` counts `[[array-of-tables]]` entries. Falls back to the line of the innermost table
    found, or None when even that is absent.
    """
    wanted_table, _, key = field.rpartition(".")
    wanted = _INDEX.sub(lambda m: f"#{m.group(1)}", wanted_table)
    counts: dict[str, int] = {}
    current = ""
    table_line: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE.match(line)
        if header:
            name = header.group(2).replace('"', "").replace("'", "").replace(" ", "")
            if header.group(1) == "[[":
                parent = _parent_path(current, name)
                index = counts.get(parent, -1) + 1
                counts[parent] = index
                current = f"{parent}#{index}"
            else:
                current = _parent_path(current, name)
            if current == wanted:
                table_line = number
            continue
        match = _KEY.match(line)
        if match and current == wanted and match.group(1).strip("\"'") == key:
            return number
        if not wanted_table and match and current == "" and match.group(1) == key:
            return number
    return table_line


def _parent_path(current: str, name: str) -> str:
    """Dotted header `a.b` inside array entries: `chargers.connectors` after
    `[[chargers]]` #1 becomes `chargers#1.connectors`."""
    segments = name.split(".")
    resolved: list[str] = []
    current_parts = current.split(".") if current else []
    for i, seg in enumerate(segments):
        is_last = i == len(segments) - 1
        if not is_last and i < len(current_parts) and current_parts[i].split("#")[0] == seg:
            resolved.append(current_parts[i])
        else:
            resolved.append(seg)
    return ".".join(resolved)
