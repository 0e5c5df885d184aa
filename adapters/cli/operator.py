"""Operator commands: chargers, sessions, id tokens, and remote actions on a charger.

They work on the store file the central system writes: the one `--config` (default
/etc/ems/site.toml) names, or `--db` (see `adapters.cli.store`). Listing and token changes
act on the store directly; only registering a charger or a token creates a store that is
not there yet. Remote actions (start, stop, reset, availability, unlock) are queued in the
store; the running central system picks them up within its `operator_poll_s`, sends them,
and writes the charger's answer back, which the command waits for (`--wait`, seconds; 0
queues and returns).

Run them as the service's user (`sudo -u ems ems chargers`): a store file they create
belongs to whoever runs them.
"""

from __future__ import annotations

import secrets
import string
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from adapters.cli.store import config_option, db_option, opened_store, store_of
from adapters.clock import utc_now
from adapters.ocpp.auth import hash_password
from adapters.storage import ChargerRecord, Registration, SqliteStore, TokenRecord

PASSWORD_LENGTH = 20
"""A generated charger password: 20 letters and digits (119 bits). OCPP 1.6 takes 16 to 20
bytes (AuthorizationKey; 32 to 40 characters are read as their hex encoding), 2.0.1 16 to
40 characters (BasicAuthPassword): 20 plain characters are the same password to both."""
_PASSWORD_ALPHABET = string.ascii_letters + string.digits
_WAIT = click.option(
    "--wait",
    "wait_s",
    type=click.FloatRange(min=0),
    default=15.0,
    show_default=True,
    help="Seconds to wait for the charger's answer (0: queue and return).",
)
_POLL_S = 0.1


@dataclass(frozen=True)
class _Where:
    """Where the store is, as the options say; found when a command opens it."""

    config_path: Path
    db_path: Path | None

    def open(self, *, create: bool = False) -> AbstractContextManager[SqliteStore]:
        return opened_store(store_of(self.config_path, self.db_path), create=create)


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%SZ") if at else "-"


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    cells = [tuple("-" if v is None else str(v) for v in row) for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(header)]
    for row in (header, *cells):
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


# chargers


@click.group(invoke_without_command=True)
@db_option
@config_option
@click.pass_context
def chargers(ctx: click.Context, db_path: Path | None, config_path: Path) -> None:
    """List chargers (no subcommand), register them, or act on one remotely."""
    ctx.obj = _Where(config_path, db_path)
    if ctx.invoked_subcommand is None:
        _list_chargers(ctx.obj)


def _list_chargers(where: _Where) -> None:
    with where.open() as store:
        records = store.list_chargers()
        connectors = store.list_connectors()
    if not records:
        click.echo("no chargers yet")
        return
    statuses: dict[str, list[str]] = {}
    for c in connectors:
        statuses.setdefault(c.charger_id, []).append(f"{c.connector_id}:{c.status}")
    _table(
        (
            "CHARGER",
            "REGISTRATION",
            "PROTOCOL",
            "VENDOR",
            "MODEL",
            "FIRMWARE",
            "LAST SEEN",
            "CONNECTORS",
        ),
        [
            (
                r.charger_id,
                r.registration,
                r.protocol,
                r.vendor,
                r.model,
                r.firmware,
                _when(r.last_seen),
                " ".join(statuses.get(r.charger_id, [])) or None,
            )
            for r in records
        ],
    )


@chargers.command("add")
@click.argument("charger_id")
@click.option(
    "--password",
    help="The HTTP Basic auth password the charger must present. Default: keep the one it "
    "has, else generate one and print it once.",
)
@click.option(
    "--no-password",
    is_flag=True,
    help="Let it connect without a password: anyone who reaches the central system's port "
    "can then connect as this charger.",
)
@click.option("--pending", is_flag=True, help="Register it as Pending (boot answered Pending).")
@click.pass_obj
def add_charger(
    where: _Where, charger_id: str, password: str | None, no_password: bool, pending: bool
) -> None:
    """Register CHARGER_ID (or change its registration / password). It must log in with
    its password (OCPP security profile 1, or 2 with TLS): a new charger gets a generated
    one, printed once, to set in the charger's OCPP settings."""
    if password is not None and no_password:
        raise click.UsageError("--password and --no-password exclude each other")
    registration = Registration.PENDING if pending else Registration.ACCEPTED
    with where.open(create=True) as store:
        said = _register(store, charger_id, registration, password, no_password)
    click.echo(f"{charger_id}: {registration}, {said}")


def _register(
    store: SqliteStore,
    charger_id: str,
    registration: str,
    password: str | None,
    no_password: bool,
) -> str:
    """Register the charger with the password the options ask for; what to tell the
    operator about its password."""
    if no_password:
        store.add_charger(charger_id, registration)
        store.set_password_hash(charger_id, None)
        return "no password: anyone who reaches the central system can connect as it"
    if password is None and _has_password(store.get_charger(charger_id)):
        store.add_charger(charger_id, registration)
        return "password unchanged"
    if password is not None:
        store.add_charger(charger_id, registration, hash_password(password))
        return "password set"
    generated = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))
    store.add_charger(charger_id, registration, hash_password(generated))
    return (
        f"password: {generated}\n"
        "Set it as the charger's OCPP Basic auth password (AuthorizationKey in OCPP 1.6, "
        "BasicAuthPassword in 2.0.1). Only its hash is stored: note it now."
    )


def _has_password(record: ChargerRecord | None) -> bool:
    return record is not None and record.password_hash is not None


@chargers.command("accept")
@click.argument("charger_id")
@click.pass_obj
def accept_charger(where: _Where, charger_id: str) -> None:
    """Accept a Pending charger: its next boot is answered Accepted."""
    with where.open() as store:
        if not store.set_registration(charger_id, Registration.ACCEPTED):
            raise click.ClickException(f"unknown charger {charger_id!r}")
    click.echo(f"{charger_id}: Accepted")


def _remote(where: _Where, charger_id: str, action: str, wait_s: float, **arguments: Any) -> None:
    with where.open() as store:
        command_id = store.queue_operator_command(charger_id, action, arguments, utc_now())
        if wait_s == 0:
            click.echo(f"queued as command {command_id}")
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            command = store.get_operator_command(command_id)
            if command is not None and command.result is not None:
                break
            time.sleep(_POLL_S)
        else:
            raise click.ClickException(
                f"no answer within {wait_s:g}s (command {command_id} stays queued; "
                "is the central system running on this store?)"
            )
    result = command.result
    detail = result.get("error_description")
    click.echo(f"{charger_id}: {result['status']}" + (f" ({detail})" if detail else ""))
    if not result.get("ok") or result["status"] not in ("Accepted", "Unlocked", "Scheduled"):
        raise SystemExit(1)


@chargers.command("start")
@click.argument("charger_id")
@click.argument("id_token")
@click.option("--connector", type=int, help="Connector (EVSE for OCPP 2.0.1).")
@_WAIT
@click.pass_obj
def remote_start(
    where: _Where, charger_id: str, id_token: str, connector: int | None, wait_s: float
) -> None:
    """Ask CHARGER_ID to start a session for ID_TOKEN."""
    _remote(where, charger_id, "remote_start", wait_s, id_token=id_token, connector_id=connector)


@chargers.command("stop")
@click.argument("charger_id")
@click.argument("transaction_id")
@_WAIT
@click.pass_obj
def remote_stop(where: _Where, charger_id: str, transaction_id: str, wait_s: float) -> None:
    """Ask CHARGER_ID to stop TRANSACTION_ID (see `ems sessions`)."""
    _remote(where, charger_id, "remote_stop", wait_s, transaction_id=transaction_id)


@chargers.command("reset")
@click.argument("charger_id")
@click.option("--hard", is_flag=True, help="Hard (immediate) reset instead of soft.")
@_WAIT
@click.pass_obj
def reset(where: _Where, charger_id: str, hard: bool, wait_s: float) -> None:
    """Reset CHARGER_ID."""
    _remote(where, charger_id, "reset", wait_s, hard=hard)


@chargers.command("availability")
@click.argument("charger_id")
@click.argument("connector_id", type=int)
@click.argument("state", type=click.Choice(["operative", "inoperative"]))
@_WAIT
@click.pass_obj
def availability(
    where: _Where, charger_id: str, connector_id: int, state: str, wait_s: float
) -> None:
    """Make a connector (0: the whole charger) operative or inoperative."""
    _remote(
        where,
        charger_id,
        "change_availability",
        wait_s,
        connector_id=connector_id,
        operative=state == "operative",
    )


@chargers.command("unlock")
@click.argument("charger_id")
@click.argument("connector_id", type=int)
@_WAIT
@click.pass_obj
def unlock(where: _Where, charger_id: str, connector_id: int, wait_s: float) -> None:
    """Unlock the cable of a connector."""
    _remote(where, charger_id, "unlock_connector", wait_s, connector_id=connector_id)


# sessions


@click.command()
@db_option
@config_option
@click.option("--open", "open_only", is_flag=True, help="Only sessions still running.")
@click.option("--charger", "charger_id", help="Only this charger's sessions.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
def sessions(
    db_path: Path | None,
    config_path: Path,
    open_only: bool,
    charger_id: str | None,
    limit: int,
) -> None:
    """List charging sessions (transactions), newest first."""
    with _Where(config_path, db_path).open() as store:
        rows = store.list_transactions(open_only=open_only, charger_id=charger_id, limit=limit)
    if not rows:
        filtered = open_only or charger_id is not None
        click.echo("no sessions match" if filtered else "no sessions yet")
        return
    _table(
        (
            "ID",
            "CHARGER",
            "CONNECTOR",
            "OCPP ID",
            "STATE",
            "TOKEN",
            "STARTED",
            "STOPPED",
            "ENERGY WH",
        ),
        [
            (
                t.id,
                t.charger_id,
                t.connector_id,
                t.ocpp_id,
                t.state,
                t.id_token,
                _when(t.started_at),
                _when(t.stopped_at),
                None
                if t.meter_stop_wh is None or t.meter_start_wh is None
                else f"{t.meter_stop_wh - t.meter_start_wh:.0f}",
            )
            for t in rows
        ],
    )


# id tokens


@click.group()
@db_option
@config_option
@click.pass_context
def tokens(ctx: click.Context, db_path: Path | None, config_path: Path) -> None:
    """The local list of id tokens (RFID cards, app ids) chargers authorize against."""
    ctx.obj = _Where(config_path, db_path)


@tokens.command("list")
@click.pass_obj
def list_tokens(where: _Where) -> None:
    with where.open() as store:
        rows = store.list_tokens()
    if not rows:
        click.echo("no id tokens yet")
        return
    _table(
        ("TOKEN", "STATUS", "EXPIRY", "BLOCKED"),
        [(t.id_token, t.status, _when(t.expiry), "yes" if t.blocked else "no") for t in rows],
    )


@tokens.command("add")
@click.argument("id_token")
@click.option(
    "--expiry",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    help="Expiry, UTC (e.g. 2030-01-01 or 2030-01-01T12:00:00).",
)
@click.pass_obj
def add_token(where: _Where, id_token: str, expiry: datetime | None) -> None:
    """Add ID_TOKEN as accepted (or replace it, unblocked)."""
    with where.open(create=True) as store:
        store.put_token(
            TokenRecord(id_token, expiry=expiry.replace(tzinfo=UTC) if expiry else None)
        )
    click.echo(f"{id_token}: Accepted")


def _set_blocked(where: _Where, id_token: str, blocked: bool) -> None:
    with where.open() as store:
        if not store.set_token_blocked(id_token, blocked):
            raise click.ClickException(f"unknown id token {id_token!r}")
    click.echo(f"{id_token}: {'Blocked' if blocked else 'Accepted'}")


@tokens.command("block")
@click.argument("id_token")
@click.pass_obj
def block_token(where: _Where, id_token: str) -> None:
    """Block ID_TOKEN: chargers asking get Blocked."""
    _set_blocked(where, id_token, True)


@tokens.command("unblock")
@click.argument("id_token")
@click.pass_obj
def unblock_token(where: _Where, id_token: str) -> None:
    _set_blocked(where, id_token, False)


@tokens.command("remove")
@click.argument("id_token")
@click.pass_obj
def remove_token(where: _Where, id_token: str) -> None:
    with where.open() as store:
        if not store.delete_token(id_token):
            raise click.ClickException(f"unknown id token {id_token!r}")
    click.echo(f"{id_token}: removed")


COMMANDS: tuple[click.Command, ...] = (chargers, sessions, tokens)
