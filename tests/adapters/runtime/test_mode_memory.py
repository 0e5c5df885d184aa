"""The operator's mode choices in a real SQLite store: kept for the transaction they were
made for, dropped with the session, and an unreadable entry skipped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from adapters.runtime.mode_memory import MODES_SETTING, remember_mode, remembered_modes
from adapters.storage.sqlite import SqliteStore
from ems.events import ModeChosen
from ems.site import ChargingMode

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_choice_is_recalled_for_its_open_transaction_only(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    remember_mode(store, "CP1/1", "7", ChargingMode.SOLAR, {"CP1/1": "7"}, NOW)
    remember_mode(store, "CP2/1", "8", ChargingMode.FAST, {"CP1/1": "7", "CP2/1": "8"}, NOW)

    assert remembered_modes(store, {"CP1/1": ("7", "CP1", 1), "CP2/1": ("9", "CP2", 1)}, NOW) == [
        ModeChosen("CP1", 1, NOW, ChargingMode.SOLAR)
    ]


def test_clearing_a_choice_and_ended_sessions_forget_them(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    remember_mode(store, "CP1/1", "7", ChargingMode.SOLAR, {"CP1/1": "7"}, NOW)
    remember_mode(store, "CP2/1", "8", ChargingMode.FAST, {"CP2/1": "8"}, NOW)  # CP1/1 ended
    assert set(store.get_setting(MODES_SETTING) or {}) == {"CP2/1"}
    remember_mode(store, "CP2/1", "8", None, {"CP2/1": "8"}, NOW)
    assert store.get_setting(MODES_SETTING) == {}


def test_an_unreadable_choice_is_skipped(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    store.put_setting(
        MODES_SETTING,
        {"CP1/1": {"transaction_id": "7", "mode": "sunny"}, "CP2/1": {"mode": "fast"}},
        NOW,
    )
    assert remembered_modes(store, {"CP1/1": ("7", "CP1", 1), "CP2/1": ("8", "CP2", 1)}, NOW) == []
