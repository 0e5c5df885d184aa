"""Placeholder: commands of this edge are registered here when they land."""

from __future__ import annotations

import click

COMMANDS: tuple[click.Command, ...] = ()
