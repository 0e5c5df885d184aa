"""Lines of values in JSON text, for errors that point at the right line."""

from __future__ import annotations

from adapters.planning.json_positions import line_of

TEXT = """{
  "at": "x",
  "meter": {"at": "y",
            "current_a": [1,
                          null]},
  "chargers": {}
}"""


def test_values_are_found_by_path_not_by_name() -> None:
    assert line_of(TEXT, ("at",)) == 2
    assert line_of(TEXT, ("meter", "at")) == 3
    assert line_of(TEXT, ("meter", "current_a", 1)) == 5
    assert line_of(TEXT, ("chargers",)) == 6


def test_a_missing_field_points_at_its_parent() -> None:
    assert line_of(TEXT, ("meter", "valid")) == 3
    assert line_of(TEXT, ("nothing", "here")) == 1


def test_text_that_is_not_json_has_no_line() -> None:
    assert line_of("{", ("at",)) is None
