"""Where a value sits in JSON text, so an error can name the line.

The standard `json` module keeps no positions; this walks text that already parsed and
records the offset of every value by its path of keys and indices.
"""

from __future__ import annotations

import json
import re

JsonPath = tuple[str | int, ...]

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def line_of(text: str, path: JsonPath) -> int | None:
    """1-based line of the value at `path`, or of its nearest present ancestor."""
    try:
        positions = _positions(text)
    except (ValueError, IndexError):
        return None
    while path not in positions and path:
        path = path[:-1]
    offset = positions.get(path)
    return None if offset is None else text.count("\n", 0, offset) + 1


def _positions(text: str) -> dict[JsonPath, int]:
    positions: dict[JsonPath, int] = {}
    _walk(text, 0, (), positions)
    return positions


def _skip(text: str, index: int) -> int:
    match = _SPACE.match(text, index)
    return index if match is None else match.end()


def _walk(text: str, index: int, path: JsonPath, positions: dict[JsonPath, int]) -> int:
    """Record the value starting at (or after blanks from) `index`; return its end."""
    index = _skip(text, index)
    positions[path] = index
    opener = text[index]
    if opener == "{":
        index = _skip(text, index + 1)
        if text[index] == "}":
            return index + 1
        while True:
            key, index = _DECODER.raw_decode(text, index)
            index = _skip(text, index)  # at ':'
            index = _skip(text, _walk(text, index + 1, (*path, key), positions))
            if text[index] == "}":
                return index + 1
            index = _skip(text, index + 1)  # past ',', at the next key's quote
    if opener == "[":
        index = _skip(text, index + 1)
        if text[index] == "]":
            return index + 1
        item = 0
        while True:
            index = _skip(text, _walk(text, index, (*path, item), positions))
            if text[index] == "]":
                return index + 1
            index += 1
            item += 1
    _, end = _DECODER.raw_decode(text, index)
    return end
