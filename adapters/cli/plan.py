"""Placeholder: `ems plan` is registered here when it lands."""

from __future__ import annotations

import click

COMMANDS: tuple[click.Command, ...] = ()
