"""A dynamic import price series (day-ahead prices) from a file the operator's tooling
writes: CSV with a header, or JSON (a list of objects, or an object holding one), with
configurable names for the time and price fields and a scale (0.001 turns prices per MWh
into prices per kWh). A price endpoint's JSON answer is read the same way
(`adapters.runtime.price_feed`). Every problem names the file (or URL), the line and the
field.

```csv
timestamp,price_per_kwh
2025-10-07T00:00:00Z,0.21
```

```json
{"prices": [{"start": "2025-10-07T00:00:00Z", "price": 92.5}, ...]}
```
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.files.errors import InputFileError, read_text
from adapters.planning.json_positions import JsonPath, line_of
from optimizer.problem import PricePeriod


@dataclass(frozen=True)
class PriceFields:
    """Where the series sits in the file: `items` is the key of the list in a JSON object
    (None: the document is the list)."""

    time: str = "timestamp"
    price: str = "price_per_kwh"
    items: str | None = None
    scale: float = 1.0


def load_price_file(path: Path, fields: PriceFields) -> tuple[PricePeriod, ...]:
    """The series, in time order (times must increase)."""
    return parse_prices(path, read_text(path), fields, as_json=path.suffix.lower() == ".json")


def parse_prices(
    path: Path | str, text: str, fields: PriceFields, *, as_json: bool
) -> tuple[PricePeriod, ...]:
    """The series in `text` (JSON, else CSV), read from `path` (a file, or the URL a price
    endpoint answered at): every problem names it, with the line and the field."""
    rows = _json_rows(path, text, fields) if as_json else _csv_rows(path, text)
    periods: list[PricePeriod] = []
    for line, where, record in rows:
        at = _moment(path, line, where(fields.time), record.get(fields.time))
        price = _number(path, line, where(fields.price), record.get(fields.price))
        if periods and at <= periods[-1].start:
            raise InputFileError(
                path,
                f"times must increase ({at} follows {periods[-1].start})",
                line,
                where(fields.time),
            )
        periods.append(PricePeriod(at, price * fields.scale))
    if not periods:
        raise InputFileError(path, "holds no prices", 1)
    return tuple(periods)


Row = tuple[int | None, Any, dict[str, Any]]


def _csv_rows(path: Path | str, text: str) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader, [])]
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            record = dict(zip(header, (c.strip() for c in cells), strict=False))
            yield reader.line_num, (lambda name: f"column {name}"), record
    except csv.Error as error:
        raise InputFileError(path, f"not valid CSV ({error})", reader.line_num + 1) from None


def _json_rows(path: Path | str, text: str, fields: PriceFields) -> Iterator[Row]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputFileError(path, f"not valid JSON: {error.msg}", error.lineno) from None
    prefix: JsonPath = ()
    items = document
    if fields.items is not None:
        if not isinstance(document, dict) or fields.items not in document:
            raise InputFileError(path, f"expected an object with a list '{fields.items}'", 1)
        items, prefix = document[fields.items], (fields.items,)
    if not isinstance(items, list):
        raise InputFileError(path, "expected a list of prices", line_of(text, prefix))
    for index, item in enumerate(items):
        here = (*prefix, index)
        if not isinstance(item, dict):
            raise InputFileError(path, "expected an object", line_of(text, here), _name(here))
        yield line_of(text, here), (lambda name, h=here: _name((*h, name))), item


def _name(path: JsonPath) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _moment(path: Path | str, line: int | None, field: str, value: object) -> datetime:
    if not isinstance(value, str) or not value:
        raise InputFileError(path, f"expected an ISO 8601 time, got {value!r}", line, field)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InputFileError(
            path, f"expected an ISO 8601 time like 2025-10-07T00:00:00Z, got {value!r}", line, field
        ) from None
    if moment.utcoffset() is None:
        raise InputFileError(path, f"time {value!r} has no UTC offset (add Z)", line, field)
    return moment.astimezone(UTC)


def _number(path: Path | str, line: int | None, field: str, value: object) -> float:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputFileError(path, f"expected a finite number, got {value!r}", line, field)
    return float(value)
