"""CSV files of rows with typed, located cells, and time series among them: every problem
an `InputFileError` naming the file, the line and the column. Scenario files
(`adapters.files.scenario`) and the grid operator's cap schedule (`adapters.files.grid_caps`)
are read with these."""

from __future__ import annotations

import csv
import difflib
import io
import math
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from adapters.files.errors import InputFileError, read_text

FIRST_YEAR = 1970
LAST_YEAR = 2200
"""Times outside these years are typing mistakes, and break the replay: its tables count
nanoseconds from 1970 in 64 bits, which ends in 2262."""


class CsvRow:
    """One CSV data row, with typed, located access to its cells."""

    def __init__(self, path: Path, line: int, cells: dict[str, str]) -> None:
        self.path = path
        self.line = line
        self.cells = cells

    def error(self, column: str, message: str) -> InputFileError:
        return InputFileError(self.path, message, self.line, column=column)

    def has(self, column: str) -> bool:
        return self.cells.get(column, "").strip() != ""

    def text(self, column: str) -> str:
        value = self.cells.get(column, "").strip()
        if not value:
            raise self.error(column, "is empty")
        return value

    def number(self, column: str, *, positive: bool = False, minimum: float = 0.0) -> float:
        raw = self.text(column)
        try:
            value = float(raw)
        except ValueError:
            raise self.error(column, f"expected a number, got {raw!r}") from None
        if not math.isfinite(value):
            raise self.error(column, f"must be a finite number (got {raw})")
        if positive and value <= 0:
            raise self.error(column, f"must be > 0 (got {raw})")
        if value < minimum:
            raise self.error(column, f"must be >= {minimum:g} (got {raw})")
        return value

    def integer(self, column: str) -> int:
        raw = self.text(column)
        try:
            return int(raw)
        except ValueError:
            raise self.error(column, f"expected an integer, got {raw!r}") from None

    def moment(self, column: str) -> datetime:
        """An ISO 8601 timestamp with an offset, as an aware UTC datetime."""
        raw = self.text(column)
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise self.error(
                column, f"expected an ISO 8601 time like 2025-03-03T08:00:00+01:00, got {raw!r}"
            ) from None
        if value.tzinfo is None or value.utcoffset() is None:
            raise self.error(column, f"time {raw!r} has no UTC offset (add Z or +01:00)")
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise self.error(
                column,
                f"year {value.year} is out of range: use a year from {FIRST_YEAR} to {LAST_YEAR}",
            )
        return value.astimezone(UTC)


class _CsvReader(Protocol):
    line_num: int

    def __next__(self) -> list[str]: ...


def csv_rows(path: Path, required: Sequence[str], optional: Sequence[str] = ()) -> Iterator[CsvRow]:
    """The data rows of a CSV file whose header has every required column."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    records = _records(path, reader)
    header = [name.strip() for name in next(records, [])]
    _check_header(path, header, required, optional)
    for cells in records:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            raise InputFileError(
                path,
                f"expected {len(header)} values, got {len(cells)}",
                reader.line_num,
            )
        yield CsvRow(path, reader.line_num, dict(zip(header, cells, strict=True)))


def _records(path: Path, reader: _CsvReader) -> Iterator[list[str]]:
    """The records of a `csv.reader`, its errors turned into `InputFileError`s naming the
    line the record starts on (an unclosed quote runs on to the end of the file)."""
    while True:
        start = reader.line_num + 1
        try:
            cells: list[str] = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise InputFileError(path, _csv_problem(error), start) from None
        yield cells


def _csv_problem(error: csv.Error) -> str:
    if "field limit" in str(error):
        return (
            f"a value is longer than {csv.field_size_limit()} characters:"
            " is this a CSV file, and is every quote closed?"
        )
    return f"not valid CSV ({error}): is this a CSV file, and is every quote closed?"


def _check_header(
    path: Path, header: list[str], required: Sequence[str], optional: Sequence[str]
) -> None:
    if not header:
        raise InputFileError(path, "is empty: expected a header line", 1)
    known = (*required, *optional)
    first: dict[str, int] = {}
    for number, name in enumerate(header, start=1):
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(known)}"
            raise InputFileError(path, f"unknown column '{name}'{hint}", 1, column=name)
        if name in first:
            raise InputFileError(
                path,
                f"appears twice (columns {first[name]} and {number}): keep one",
                1,
                column=name,
            )
        first[name] = number
    for name in required:
        if name not in header:
            raise InputFileError(path, "missing column in the header", 1, column=name)


def timed_rows(
    path: Path, required: Sequence[str], optional: Sequence[str] = ()
) -> Iterator[tuple[datetime, CsvRow]]:
    """The rows of a time series file (a `timestamp` column first among `required`), each
    with its moment; timestamps must increase."""
    previous: datetime | None = None
    for row in csv_rows(path, required, optional):
        at = row.moment("timestamp")
        if previous is not None and at <= previous:
            raise row.error("timestamp", f"timestamps must increase ({at} follows {previous})")
        previous = at
        yield at, row
