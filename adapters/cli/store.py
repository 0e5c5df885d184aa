"""The store as the command line finds and opens it, for a person.

Every command that touches the store takes `--db FILE` (or `EMS_DB`) and, without it, the
store `[store] path` names in `--config` (or `EMS_CONFIG`, default /etc/ems/site.toml):
the file the service uses, wherever the command runs. A command that only reads never
creates a store; a store it cannot use is an error naming the path and what to do.
"""

from __future__ import annotations

import getpass
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from adapters.files.app_config import DEFAULT_CONFIG_PATH, load_app_config, store_path_problem
from adapters.storage import SqliteStore

_CHOOSE = "choose another with [store] path in the config or --db"

db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="EMS_DB",
    help="The store file (SQLite). Default: the one [store] path of --config names.",
)
config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="EMS_CONFIG",
    default=DEFAULT_CONFIG_PATH,
    show_default=True,
    help="The site config whose store to use (ignored with --db).",
)


def store_of(config_path: Path, db_path: Path | None) -> Path:
    """The store a command works on: `db_path` when given, else the configured one."""
    if db_path is not None:
        return db_path
    if not config_path.exists():
        raise click.ClickException(
            f"no config at {config_path}: give the service's config with --config "
            "(or EMS_CONFIG), or the store itself with --db"
        )
    return load_app_config(config_path).store.path


def store_problem(path: Path, *, create: bool) -> str | None:
    """What stops this process from using the store at `path` (and, with `create`, from
    creating it there), with what to do; None when nothing does."""
    problem = store_path_problem(path)
    if problem is not None:
        return f"{problem}; or {_CHOOSE}"
    user = _user()
    if path.exists():
        # SQLite writes its journal (WAL) beside the file: the folder must be writable too.
        if not (os.access(path, os.R_OK | os.W_OK) and _writable(path.parent)):
            return (
                f"user {user} may not write it and its folder: run this as the service's "
                "user (e.g. `sudo -u ems ems ...`), or give that user the file and folder"
            )
        return None
    if not create:
        return (
            "does not exist yet: `ems run` creates it. Is this the service's store? "
            "Give the service's config with --config, or its store with --db"
        )
    folder = path.parent
    if not folder.exists():
        return (
            f"folder {folder} does not exist: create it for the service's user (in the "
            f"systemd unit, StateDirectory=ems makes /var/lib/ems), or {_CHOOSE}"
        )
    if not _writable(folder):
        return (
            f"user {user} may not create files in folder {folder}: give the folder to the "
            f"service's user, or {_CHOOSE}"
        )
    return None


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment nor the user database
        return f"with id {os.geteuid()}"


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK | os.X_OK)


@contextmanager
def opened_store(path: Path, *, create: bool) -> Iterator[SqliteStore]:
    """The store at `path`, closed after the block. Missing, it is created only when
    `create`; a store this process cannot use is a `click.ClickException` saying why."""
    problem = store_problem(path, create=create)
    if problem is not None:
        raise click.ClickException(f"store {path}: {problem}")
    try:
        store = SqliteStore(path)
    except sqlite3.Error as error:
        raise click.ClickException(
            f"store {path}: cannot open it ({error}): is it a store of `ems run`, and may "
            f"user {_user()} write it and its folder? Or {_CHOOSE}"
        ) from error
    try:
        yield store
    finally:
        store.close()
