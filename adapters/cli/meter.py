"""`ems meter read`, `ems meter maps` and `ems sim-meter`: the Modbus edge for a person.

`ems meter read` is the first thing an installer runs on site, so when it cannot read
it says what to check rather than printing a stack trace.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from adapters.files.config import parse_toml
from adapters.files.errors import InputFileError, read_text
from adapters.modbus.config import MeterSettings, Sign, parse_meters_section
from adapters.modbus.faults import parse_fault
from adapters.modbus.profile import PACKAGED_PROFILE, load_profile
from adapters.modbus.register_map import UnknownMapError, load_map, shipped_map_names
from adapters.modbus.virtual import VirtualMeter
from ems.events import MeterReading

_HINTS = {
    "cannot connect": "Check host and port in the site file, that the meter or gateway is "
    "powered and on this network, and that Modbus TCP is enabled on it (port 502 by default).",
    "timeout": "The device accepted the connection but did not answer: check the unit id "
    "(a gateway routes by it), the RS485 wiring, baud rate and parity behind a gateway, and "
    "that nothing else is polling the meter.",
    "disconnected": "The device closed the connection: another client may hold its only "
    "Modbus TCP connection, or the gateway dropped the request.",
    "bad answer": "The answer did not match the request: is this a Modbus TCP device, and "
    "is another client sharing the connection?",
    "modbus exception": "The meter refused the request: check that the map fits this meter "
    "model and firmware (register addresses, function code 03/04). Code 11 from a gateway "
    "means the meter behind it did not answer: check unit id and RS485 wiring.",
    "no sunspec meter": "The device has no SunSpec meter model at the usual addresses: use "
    "the meter's own map instead of `sunspec`.",
    "not available": "The meter reports values as not available: is it measuring (current "
    "transformers connected, all phases present)?",
    "all zero": "Every value read 0. Eastron meters answer function code 03 with zeros: "
    "their map must use function code 04. Otherwise check the map's addresses.",
    "out of range": "Implausible values: check the map's data type, word order and scale "
    "for this meter (and the current transformer ratio).",
}


@click.group("meter")
def meter_group() -> None:
    """Site and circuit meters over Modbus TCP."""


@meter_group.command("read")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The site file; its [[meters]] are used.",
)
@click.option("--meter", "meter_id", help="Which meter (default: the site meter, else the first).")
def read_command(config_path: Path, meter_id: str | None) -> None:
    """Read a meter once and print the values, or what is wrong."""
    text = read_text(config_path)
    data = parse_toml(text, config_path)
    meters = parse_meters_section(data.get("meters", []), config_path, text)
    if not meters:
        raise InputFileError(config_path, "no [[meters]] in this file", field="meters")
    chosen: MeterSettings | None
    if meter_id is None:
        chosen = next((m for m in meters if m.circuit is None), meters[0])
    else:
        chosen = next((m for m in meters if m.id == meter_id), None)
        if chosen is None:
            known = ", ".join(m.id for m in meters)
            raise click.BadParameter(
                f"no meter {meter_id!r}; configured: {known}", param_hint="--meter"
            )
    _quiet_library_logs()
    reading, failure_kind, source = asyncio.run(_read_once(chosen))
    console = Console(width=100)
    where = "site" if chosen.circuit is None else f"circuit {chosen.circuit}"
    console.print(f"[bold]{chosen.id}[/bold] ({where}): {source}")
    console.print(_table(reading))
    if reading.valid:
        console.print(f"[green]valid[/green] at {reading.at.isoformat(timespec='seconds')}")
        return
    console.print(f"[red]cannot read:[/red] {reading.reason}")
    if failure_kind in _HINTS:
        console.print(_HINTS[failure_kind])
    raise SystemExit(1)


@meter_group.command("maps")
def maps_command() -> None:
    """List the shipped register maps."""
    table = Table("map", "meter", "FC", "registers")
    for name in shipped_map_names():
        register_map = load_map(name)
        types = sorted(
            {
                f"{r.data_type}" + (f" {r.word_order}-endian words" if r.words > 1 else "")
                for r in register_map.registers
            }
        )
        table.add_row(
            name, register_map.description, f"{register_map.function_code:02d}", ", ".join(types)
        )
    Console(width=120).print(table)


@click.command("sim-meter")
@click.option(
    "--map", "map_name", required=True, help="A shipped map (see `ems meter maps`) or a map file."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    default=1502,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="0 picks a free port.",
)
@click.option("--unit-id", default=1, show_default=True, type=click.IntRange(0, 255))
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Load profile CSV (default: a packaged office day).",
)
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Profile seconds per real second.",
)
@click.option(
    "--fault",
    "fault_texts",
    multiple=True,
    metavar="KIND@START-END",
    help="silence, slow, exception, frozen (stale), nan or drop, over seconds of profile time.",
)
@click.option(
    "--sign",
    type=click.Choice(["import_positive", "export_positive"]),
    default="import_positive",
    show_default=True,
    help="How the simulated meter counts.",
)
@click.option(
    "--sunspec-base", default="40000", show_default=True, type=click.Choice(["40000", "50000", "0"])
)
@click.option(
    "--sunspec-model",
    default="203",
    show_default=True,
    type=click.Choice(["201", "202", "203", "204"]),
)
@click.option("--duration", type=click.FloatRange(min=0), help="Stop after this many real seconds.")
def sim_meter_command(
    map_name: str,
    host: str,
    port: int,
    unit_id: int,
    profile_path: Path | None,
    speed: float,
    fault_texts: tuple[str, ...],
    sign: str,
    sunspec_base: str,
    sunspec_model: str,
    duration: float | None,
) -> None:
    """Serve a simulated meter over Modbus TCP from a load profile."""
    from adapters.modbus.simulator import MeterSimulator  # pymodbus: loaded when used

    try:
        register_map = load_map(map_name, Path.cwd())
    except UnknownMapError as error:
        raise click.BadParameter(str(error), param_hint="--map") from None
    try:
        faults = [parse_fault(text) for text in fault_texts]
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--fault") from None
    profile = load_profile(profile_path or PACKAGED_PROFILE)
    try:
        simulator = MeterSimulator(
            register_map,
            profile,
            host=host,
            port=port,
            unit_id=unit_id,
            speed=speed,
            faults=faults,
            sign=Sign(sign),
            sunspec_base=int(sunspec_base),
            sunspec_model=int(sunspec_model),
        )
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--fault") from None
    _quiet_library_logs()

    async def serve() -> None:
        async with simulator:
            click.echo(
                f"serving {register_map.name} on {host}:{simulator.port} unit {unit_id}, "
                f"profile {profile_path or PACKAGED_PROFILE.name} at {speed}x"
                + "".join(f", {f.kind}@{f.start_s:g}-{f.end_s:g}" for f in faults)
            )
            if duration is None:
                await asyncio.Event().wait()
            else:
                await asyncio.sleep(duration)

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        click.echo("stopped")


async def _read_once(settings: MeterSettings) -> tuple[MeterReading, str | None, str]:
    from adapters.modbus.reader import ModbusMeterReader  # pymodbus: loaded when used

    if settings.is_virtual:
        reading = await VirtualMeter(settings).read()
        return reading, None, "virtual meter (configured base load)"
    reader = ModbusMeterReader(settings)
    try:
        reading = await reader.read()
    finally:
        await reader.close()
    source = (
        f"{reader.register_map.name} at {settings.host}:{settings.port} unit {settings.unit_id}"
    )
    kind = None if reader.last_failure is None else reader.last_failure.kind.value
    return reading, kind, source


def _table(reading: MeterReading) -> Table:
    table = Table("", "L1", "L2", "L3", "total")
    rows = (
        ("current (A)", reading.current_a, None, 2),
        ("voltage (V)", reading.voltage_v, None, 1),
        ("power (W)", reading.power_w, reading.total_power_w, 0),
    )
    for label, phases, total, digits in rows:
        table.add_row(label, *(_number(v, digits) for v in phases), _number(total, digits))
    energy = None if reading.energy_import_wh is None else reading.energy_import_wh / 1000
    table.add_row("energy import (kWh)", "", "", "", _number(energy, 3))
    table.add_row("frequency (Hz)", "", "", "", _number(reading.frequency_hz, 2))
    return table


def _number(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _quiet_library_logs() -> None:
    """pymodbus logs every timeout and refused connection; the CLI reports them itself."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


COMMANDS: tuple[click.Command, ...] = (meter_group, sim_meter_command)
