"""`ems meter read`, `ems meter maps` and `ems sim-meter` through click's runner,
against the simulator on a real socket."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner, Result

from adapters.cli.main import cli
from adapters.modbus.profile import LoadProfile
from adapters.modbus.register_map import load_map
from adapters.modbus.simulator import MeterSimulator


def _site(tmp_path: Path, port: int, extra: str = "") -> Path:
    path = tmp_path / "site.toml"
    path.write_text(
        "[site]\nlimit_a = 63\n\n"
        f'[[meters]]\nid = "grid"\nmap = "sdm630"\nhost = "127.0.0.1"\nport = {port}\n'
        f"timeout_s = 0.3\n{extra}"
    )
    return path


async def _invoke(*args: str) -> Result:
    """The command runs its own event loop, so it runs in a thread beside this one."""
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args))


async def test_meter_read_prints_the_values(tmp_path: Path) -> None:
    profile = LoadProfile.constant((12.34, -6.5, 3.0))
    async with MeterSimulator(load_map("sdm630"), profile) as simulator:
        result = await _invoke("meter", "read", "--config", str(_site(tmp_path, simulator.port)))

    assert result.exit_code == 0, result.output
    assert "12.34" in result.output
    assert "-6.50" in result.output
    assert "valid" in result.output
    assert "sdm630" in result.output


async def test_meter_read_on_a_closed_port_says_what_to_check(tmp_path: Path) -> None:
    async with MeterSimulator(load_map("sdm630"), LoadProfile.constant((1, 1, 1))) as simulator:
        port = simulator.port
    result = await _invoke("meter", "read", "--config", str(_site(tmp_path, port)))

    assert result.exit_code == 1
    assert "cannot connect" in result.output
    assert "Check host and port" in result.output
    assert "Traceback" not in result.output


async def test_meter_read_on_a_silent_unit_id_points_at_the_unit_id(tmp_path: Path) -> None:
    async with MeterSimulator(load_map("sdm630"), LoadProfile.constant((1, 1, 1))) as simulator:
        site = _site(tmp_path, simulator.port, "unit_id = 9\n")
        result = await _invoke("meter", "read", "--config", str(site))

    assert result.exit_code == 1
    assert "timeout" in result.output
    assert "unit id" in result.output


def test_config_error_names_file_and_line(tmp_path: Path) -> None:
    site = _site(tmp_path, 502, "unit_id = 400\n")

    result = CliRunner().invoke(cli, ["meter", "read", "--config", str(site)])

    assert result.exit_code == 2
    assert f"{site}:10: meters[0].unit_id:" in result.output


def test_meter_maps_lists_the_shipped_maps() -> None:
    result = CliRunner().invoke(cli, ["meter", "maps"])

    assert result.exit_code == 0
    for name in ("sdm630", "em24_e1", "sunspec", "schneider_iem3000"):
        assert name in result.output


def test_sim_meter_serves_for_a_while() -> None:
    result = CliRunner().invoke(
        cli,
        [
            "sim-meter",
            "--map",
            "em340",
            "--port",
            "0",
            "--duration",
            "0.2",
            "--fault",
            "stale@30-60",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "serving em340 on 127.0.0.1:" in result.output
    assert "frozen@30-60" in result.output


def test_sim_meter_rejects_a_bad_fault() -> None:
    result = CliRunner().invoke(cli, ["sim-meter", "--map", "sdm630", "--fault", "boom@1-2"])

    assert result.exit_code == 2
    assert "unknown fault 'boom'" in result.output
