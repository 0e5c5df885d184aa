"""`ems run`: its help, its config errors, and a real start and clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli.main import cli
from tests.adapters.runtime.site import write_site

_EMS = [sys.executable, "-c", "from adapters.cli.main import main; main()"]
_ROOT = Path(__file__).resolve().parents[3]


def test_help_explains_the_command() -> None:
    result = CliRunner().invoke(cli, ["run", "--help"])
    assert result.exit_code == 0
    for words in ("--config", "--db", "--http-port", "SIGTERM", "central system"):
        assert words in result.output


def test_a_config_error_names_file_line_and_field(tmp_path: Path) -> None:
    path = write_site(tmp_path)
    text = path.read_text(encoding="utf-8").replace("port = 0\ntoken", "port = 70000\ntoken")
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("port = 70000") + 1
    result = CliRunner().invoke(cli, ["run", "--config", str(path)])
    assert result.exit_code == 2
    assert f"{path}:{line}: http.port: must be an integer from 0 to 65535" in result.output


def test_an_unknown_store_key_is_an_error(tmp_path: Path) -> None:
    path = write_site(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + 'file = "x.sqlite"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", "--config", str(path)])
    assert result.exit_code == 2
    assert "store.file: unknown key" in result.output


@pytest.mark.parametrize(
    ("where", "words"),
    [
        ("missing/ems.sqlite", ("folder", "missing", "does not exist", "StateDirectory=ems")),
        ("file.txt/ems.sqlite", ("folder", "file.txt", "is not a folder")),
        ("garbage.sqlite", ("cannot open it", "not a database")),
    ],
)
def test_a_store_it_cannot_use_is_named_with_what_to_do(
    tmp_path: Path, where: str, words: tuple[str, ...]
) -> None:
    config = write_site(tmp_path)
    (tmp_path / "file.txt").write_text("not a folder\n")
    (tmp_path / "garbage.sqlite").write_text("not a database, at all, no\n" * 100)
    database = tmp_path / where
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--db", str(database)])
    assert result.exit_code == 1, result.output
    assert f"store {database}: " in result.output
    for word in words:
        assert word in result.output
    assert "--db" in result.output
    assert result.exc_info is not None
    assert result.exc_info[0] is SystemExit


def test_a_store_the_system_refuses_is_named(tmp_path: Path) -> None:
    """/proc takes no files, whoever asks: what an unwritable folder is to a service user."""
    config = write_site(tmp_path)
    result = CliRunner().invoke(cli, ["run", "--config", str(config), "--db", "/proc/ems.sqlite"])
    assert result.exit_code == 1, result.output
    assert "store /proc/ems.sqlite: cannot open it" in result.output


def test_runs_until_sigterm_and_stops_cleanly(tmp_path: Path) -> None:
    config = write_site(tmp_path)
    database = tmp_path / "chosen.sqlite"
    process = subprocess.Popen(
        [*_EMS, "run", "--config", str(config), "--db", str(database), "--http-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=_ROOT,
        env={**os.environ, "PYTHONPATH": str(_ROOT)},
    )
    try:
        assert process.stdout is not None
        lines = []
        deadline = time.monotonic() + 30
        while not any(line.startswith("status page") for line in lines):
            assert time.monotonic() < deadline, lines
            line = process.stdout.readline()
            assert line, f"ems run ended early: {process.stderr.read() if process.stderr else ''}"
            lines.append(line)
        assert any(line.startswith("central system: ws://127.0.0.1:") for line in lines)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "stopped" in out
    assert "no site meter in [[meters]]" in err
    for charger in ("CP1", "CP2", "CP3"):
        assert err.count(f"charger {charger} has no password") == 1, err
    assert database.exists()
