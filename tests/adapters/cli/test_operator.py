"""`ems chargers`, `ems sessions`, `ems tokens` against a real store file."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from ocpp.v16 import call as call16

from adapters.cli.main import cli
from adapters.ocpp import CentralSystem
from adapters.ocpp.auth import verify_password
from adapters.storage import Registration, SqliteStore
from tests.adapters.ocpp.stations import Events, make_settings, station16

AT = datetime(2024, 5, 1, 12, tzinfo=UTC)


def ems(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args[:1], "--db", str(db), *args[1:]])


def test_tokens(tmp_path: Path) -> None:
    db = tmp_path / "ems.sqlite"
    assert ems(db, "tokens", "add", "TAG1", "--expiry", "2030-01-01").exit_code == 0
    assert ems(db, "tokens", "add", "TAG2").exit_code == 0
    assert ems(db, "tokens", "block", "TAG2").output == "TAG2: Blocked\n"
    listing = ems(db, "tokens", "list")
    assert listing.exit_code == 0
    lines = listing.output.splitlines()
    assert lines[0].split() == ["TOKEN", "STATUS", "EXPIRY", "BLOCKED"]
    assert lines[1].split()[:2] == ["TAG1", "Accepted"]
    assert "2030-01-01" in lines[1]
    assert lines[2].split()[-1] == "yes"
    unknown = ems(db, "tokens", "block", "NOPE")
    assert unknown.exit_code == 1
    assert "unknown id token" in unknown.output
    assert ems(db, "tokens", "remove", "TAG2").exit_code == 0
    store = SqliteStore(db)
    assert [t.id_token for t in store.list_tokens()] == ["TAG1"]
    store.close()


# Has a hyphen, which base64 never produces, so it cannot appear in a hash by chance.
PASSWORD = "basic-auth-secret"


def test_chargers_and_sessions(tmp_path: Path) -> None:
    db = tmp_path / "ems.sqlite"
    assert ems(db, "chargers", "add", "CP1", "--password", PASSWORD).exit_code == 0
    assert ems(db, "chargers", "add", "CP2", "--pending").exit_code == 0
    store = SqliteStore(db)
    store.record_boot("CP1", AT, "ocpp1.6", "Acme", "Wall", None, "1.0")
    store.set_connector_status("CP1", 1, "Charging", None, AT)
    record = store.start_transaction("CP1", 1, AT, "TAG1", 100.0)
    store.stop_transaction(record.id, AT, 2100.0, "Local")
    store.start_transaction("CP1", 2, AT, "TAG2", 0.0)
    charger = store.get_charger("CP1")
    store.close()
    assert charger is not None
    assert charger.password_hash is not None
    assert PASSWORD not in charger.password_hash
    assert verify_password(PASSWORD, charger.password_hash)

    listing = ems(db, "chargers")
    assert listing.exit_code == 0, listing.output
    rows = {line.split()[0]: line for line in listing.output.splitlines()[1:]}
    assert "Acme" in rows["CP1"]
    assert "1:Charging" in rows["CP1"]
    assert Registration.PENDING in rows["CP2"]
    assert ems(db, "chargers", "accept", "CP2").exit_code == 0
    assert ems(db, "chargers", "accept", "CP9").exit_code == 1

    all_sessions = ems(db, "sessions").output.splitlines()
    assert len(all_sessions) == 3
    assert all_sessions[2].split()[-1] == "2000"
    running = ems(db, "sessions", "--open").output.splitlines()
    assert len(running) == 2
    assert "TAG2" in running[1]


async def test_remote_actions_go_through_the_running_server(tmp_path: Path) -> None:
    db = tmp_path / "ems.sqlite"
    store = SqliteStore(db)
    system = CentralSystem(make_settings(), store, Events())
    await system.start()
    try:
        async with station16(system, "CP1") as cp:
            # Back without a boot: requests to it wait for its first message.
            await cp.call(call16.Heartbeat(), suppress=False)
            started = await asyncio.to_thread(
                ems, db, "chargers", "start", "CP1", "TAG1", "--connector", "1", "--wait", "10"
            )
            assert started.exit_code == 0, started.output
            assert started.output == "CP1: Accepted\n"
            assert (await cp.inbox.wait_for("RemoteStartTransaction"))["id_tag"] == "TAG1"
            availability = await asyncio.to_thread(
                ems, db, "chargers", "availability", "CP1", "1", "inoperative"
            )
            assert availability.exit_code == 0, availability.output
            assert (await cp.inbox.wait_for("ChangeAvailability"))["type"] == "Inoperative"
            reset = await asyncio.to_thread(ems, db, "chargers", "reset", "CP1", "--hard")
            assert reset.exit_code == 0
            assert (await cp.inbox.wait_for("Reset")) == {"type": "Hard"}
        offline = await asyncio.to_thread(ems, db, "chargers", "stop", "CP1", "1")
        assert offline.exit_code == 1
        assert "Offline" in offline.output
    finally:
        await system.stop()
        store.close()


def test_queue_without_waiting(tmp_path: Path) -> None:
    db = tmp_path / "ems.sqlite"
    SqliteStore(db).close()
    queued = ems(db, "chargers", "unlock", "CP1", "1", "--wait", "0")
    assert queued.exit_code == 0
    assert "queued" in queued.output


def test_a_remote_action_needs_the_store_of_a_running_server(tmp_path: Path) -> None:
    db = tmp_path / "ems.sqlite"
    queued = ems(db, "chargers", "unlock", "CP1", "1", "--wait", "0")
    assert queued.exit_code == 1
    assert f"store {db}: does not exist" in queued.output
    assert not db.exists()


def test_an_empty_store_says_there_is_nothing_yet(tmp_path: Path) -> None:
    db = tmp_path / "ems.sqlite"
    SqliteStore(db).close()
    for command, expected in (
        (("chargers",), "no chargers yet\n"),
        (("sessions",), "no sessions yet\n"),
        (("sessions", "--open"), "no sessions match\n"),
        (("tokens", "list"), "no id tokens yet\n"),
    ):
        result = ems(db, *command)
        assert result.exit_code == 0, result.output
        assert result.output == expected


def test_a_read_never_creates_a_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "elsewhere.sqlite"
    for command in (("chargers",), ("sessions",), ("tokens", "list")):
        result = ems(db, *command)
        assert result.exit_code == 1
        assert f"store {db}: does not exist yet" in result.output
        assert "ems run" in result.output
    assert sorted(tmp_path.iterdir()) == []


SITE = """\
[site]
name = "operator test"
limit_a = 32

[[chargers]]
id = "CP1"
  [[chargers.connectors]]
  connector_id = 1
  phases = "L1L2L3"
  max_current_a = 16

[store]
path = "state/site.sqlite"
"""


def test_the_store_is_the_one_the_config_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "etc" / "site.toml"
    config.parent.mkdir()
    config.write_text(SITE, encoding="utf-8")
    (config.parent / "state").mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    runner = CliRunner()
    added = runner.invoke(cli, ["chargers", "--config", str(config), "add", "CP7"])
    assert added.exit_code == 0, added.output
    listing = runner.invoke(cli, ["chargers"], env={"EMS_CONFIG": str(config)})
    assert listing.exit_code == 0, listing.output
    assert listing.output.splitlines()[1].split()[:2] == ["CP7", "Accepted"]
    assert (config.parent / "state" / "site.sqlite").exists()
    assert list(work.iterdir()) == []


def test_without_a_config_or_store_it_says_what_to_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "site.toml"
    result = CliRunner().invoke(cli, ["sessions"], env={"EMS_CONFIG": str(missing)})
    assert result.exit_code == 1
    assert f"no config at {missing}" in result.output
    assert "--config" in result.output
    assert "--db" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_config_error_is_reported_as_for_ems_run(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text(SITE.replace("limit_a = 32", "limit_a = -32"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["tokens", "--config", str(config), "list"])
    assert result.exit_code == 2
    assert f"{config}:3: site.limit_a: must be > 0 (got -32)" in result.output


def test_adding_a_charger_prints_a_generated_password(tmp_path: Path) -> None:
    db = tmp_path / "ems.sqlite"
    added = ems(db, "chargers", "add", "CP1")
    assert added.exit_code == 0, added.output
    password = added.output.split("password: ")[1].split()[0]
    assert len(password) == 20
    assert password.isalnum()
    again = ems(db, "chargers", "add", "CP1", "--pending")
    assert again.exit_code == 0
    assert "password unchanged" in again.output
    assert ems(db, "chargers", "add", "CP2", "--no-password").exit_code == 0
    store = SqliteStore(db)
    first, second = store.get_charger("CP1"), store.get_charger("CP2")
    store.close()
    assert first is not None
    assert first.password_hash is not None
    assert verify_password(password, first.password_hash)
    assert first.registration == Registration.PENDING
    assert second is not None
    assert second.password_hash is None
