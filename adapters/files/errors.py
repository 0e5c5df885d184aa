"""Errors in input files that name the file, the line and the field.

Every loader of a config or scenario file raises `InputFileError`; the CLI prints it as
`site.toml:12: chargers[1].connectors[0].max_current_a: must be > 0 (got -3)` and exits 2.
A loader that goes on after a mistake to find the others collects them in `Problems` and
raises them together as `InputFileErrors`, one line each.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
F = TypeVar("F")


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

    @property
    def errors(self) -> tuple[InputFileError, ...]:
        """Every problem this error stands for: itself."""
        return (self,)


class InputFileErrors(InputFileError):
    """Several problems in input files, in file order. Its own fields are the first one's,
    so a caller that handles one error at a time still gets a precise one."""

    def __init__(self, errors: list[InputFileError]) -> None:
        ordered = sorted(errors, key=_position)
        first = ordered[0]
        super().__init__(first.path, first.message, first.line, first.field, first.column)
        self._errors = tuple(ordered)

    @property
    def errors(self) -> tuple[InputFileError, ...]:
        return self._errors

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self._errors)


def _position(error: InputFileError) -> tuple[str, int]:
    return (str(error.path), error.line if error.line is not None else 1 << 30)


class Problems:
    """Collects the mistakes of a file so that all of them are reported in one go.

    A parser tries each independent part (a key, a connector, a section) with `attempt`
    or under `collecting()`, goes on with the rest, and ends with `raise_any()`.
    """

    def __init__(self) -> None:
        self._found: list[InputFileError] = []

    def add(self, error: InputFileError) -> None:
        self._found.extend(error.errors)

    def attempt(self, parse: Callable[[], T], fallback: F) -> T | F:
        """What `parse` returns, or `fallback` once its error is noted. Choose a fallback
        that no later check complains about (`math.inf` for a limit others must stay
        under), so that one mistake is reported once."""
        try:
            return parse()
        except InputFileError as error:
            self.add(error)
            return fallback

    @contextmanager
    def collecting(self) -> Iterator[None]:
        """Note an `InputFileError` raised in the block and carry on after it."""
        try:
            yield
        except InputFileError as error:
            self.add(error)

    def raise_any(self) -> None:
        """Raise what was found: the one error as it is, several as `InputFileErrors`."""
        if len(self._found) == 1:
            raise self._found[0]
        if self._found:
            raise InputFileErrors(self._found)


def read_text(path: Path) -> str:
    """A UTF-8 text file, with or without a byte-order mark (Windows editors and Excel's
    "CSV UTF-8" write one). Anything else is an `InputFileError` naming the line."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputFileError(path, f"cannot read: {error.strerror or error}") from error
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        decoded: bytes = error.object  # the bytes after a byte-order mark
        bad = decoded[error.start : error.start + 1].hex()
        line = decoded.count(b"\n", 0, error.start) + 1
        raise InputFileError(
            path,
            f"not UTF-8 text (byte 0x{bad}): save it as UTF-8"
            " (in Excel: CSV UTF-8; in an editor: encoding UTF-8)",
            line,
        ) from None


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
