from adapters.files.errors import InputFileError, toml_line_of

SITE = """name = "x"
[site]
limit_a = 32

[[chargers]]
id = "a"
[[chargers.connectors]]
connector_id = 1
[[chargers]]
id = "b"
[[chargers.connectors]]
connector_id = 1
[[chargers.connectors]]
connector_id = 2
max_current_a = -3
"""


def test_top_level_key() -> None:
    assert toml_line_of(SITE, "name") == 1


def test_key_in_table() -> None:
    assert toml_line_of(SITE, "site.limit_a") == 3


def test_key_in_second_array_entry() -> None:
    assert toml_line_of(SITE, "chargers[1].id") == 10


def test_key_in_nested_array_entry() -> None:
    assert toml_line_of(SITE, "chargers[1].connectors[1].max_current_a") == 15


def test_missing_key_falls_back_to_its_table_line() -> None:
    assert toml_line_of(SITE, "chargers[1].connectors[1].phases") == 13


def test_unknown_table_gives_none() -> None:
    assert toml_line_of(SITE, "meters[0].host") is None


def test_message_names_file_line_and_field() -> None:
    error = InputFileError("site.toml", "must be > 0 (got -3)", 15, "chargers[1].max_current_a")
    assert str(error) == "site.toml:15: chargers[1].max_current_a: must be > 0 (got -3)"
