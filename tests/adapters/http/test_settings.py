from __future__ import annotations

import tomllib

import pytest

from adapters.files.errors import InputFileError
from adapters.http import HttpSettings, parse_http_section
from adapters.http.settings import DEFAULT_PORT


def parse(text: str) -> HttpSettings:
    return parse_http_section(tomllib.loads(text).get("http", {}), "site.toml", text)


def test_defaults_without_a_section() -> None:
    assert parse('[site]\nname = "x"\n') == HttpSettings(
        host="127.0.0.1", port=DEFAULT_PORT, token=None
    )


def test_values() -> None:
    text = '[http]\nhost = "0.0.0.0"\nport = 0\ntoken = "0123456789abcdefXYZ"\n'

    assert parse(text) == HttpSettings(host="0.0.0.0", port=0, token="0123456789abcdefXYZ")


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        ('port = "8090"', "http.port", "must be an integer from 0 to 65535"),
        ("port = 70000", "http.port", "must be an integer from 0 to 65535"),
        ("port = true", "http.port", "must be an integer"),
        ('host = ""', "http.host", "must be a host name"),
        ('token = "short"', "http.token", "at least 16 characters"),
        ("token = 1234567890123456", "http.token", "must be a string"),
        ('tokne = "0123456789abcdefXYZ"', "http.tokne", "unknown key"),
    ],
)
def test_errors_name_file_line_and_field(line: str, field: str, words: str) -> None:
    text = f'[site]\nname = "x"\n\n[http]\n{line}\n'

    with pytest.raises(InputFileError) as caught:
        parse(text)

    error = caught.value
    assert error.field == field
    assert error.line == text.splitlines().index(line) + 1
    assert words in error.message
    assert str(error).startswith(f"site.toml:{error.line}: {field}: ")
