"""Placeholder until the Modbus edge lands: `ems meter` and `ems sim-meter`."""

from __future__ import annotations

import click

COMMANDS: tuple[click.Command, ...] = ()
