from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from adapters.ocpp import CentralSystem
from adapters.storage import SqliteStore
from tests.adapters.ocpp.stations import Events, make_settings


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ems.sqlite"


@pytest.fixture
def store(db_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(db_path)
    yield store
    store.close()


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
async def system(store: SqliteStore, events: Events) -> AsyncIterator[CentralSystem]:
    system = CentralSystem(make_settings(), store, events)
    await system.start()
    yield system
    await system.stop()
