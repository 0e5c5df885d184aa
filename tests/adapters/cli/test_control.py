"""`ems run`: its help, its config errors, and a real start and clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
    assert database.exists()
