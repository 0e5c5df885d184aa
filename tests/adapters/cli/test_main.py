"""The `ems` command itself: its version, its command list, and that starting it is cheap."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import click
from click.testing import CliRunner

from adapters.cli.main import cli

_ROOT = Path(__file__).resolve().parents[3]
_HEAVY = ("matplotlib", "pandas", "pyomo")


def test_version_is_the_installed_distribution() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"ems {version('sitecharge-ems')}\n"


def test_importing_the_command_loads_no_heavy_library() -> None:
    """`ems --help` and `ems --version` must not pay for pandas, matplotlib and pyomo:
    seconds on a small box. Only the command that runs loads what it needs."""
    probe = f"import sys, adapters.cli.main; print([m for m in {_HEAVY!r} if m in sys.modules])"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=_ROOT, capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"


def test_help_lists_every_command_with_its_own_summary() -> None:
    """The list in `ems --help` is written without loading the commands: it must say
    what each command says of itself."""
    result = CliRunner().invoke(cli, ["--help"], terminal_width=300)
    assert result.exit_code == 0
    listed = result.output.split("Commands:")[1]
    context = click.Context(cli)
    names = cli.list_commands(context)
    assert {"run", "check", "plan", "chargers", "sessions", "tokens", "replay"} <= set(names)
    for name in names:
        command = cli.get_command(context, name)
        assert command is not None, name
        assert command.name == name
        assert f"{name} " in listed
        assert command.get_short_help_str(limit=1000) in listed, name


def test_an_unknown_command_is_refused() -> None:
    result = CliRunner().invoke(cli, ["chargerz"])
    assert result.exit_code == 2
    assert "No such command 'chargerz'" in result.output
