from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.http import HttpSettings, StatusServer
from tests.adapters.http.fakes import FakeActions, FakeSource

TOKEN = "operator-token-for-tests"


@pytest.fixture
def source() -> FakeSource:
    return FakeSource()


@pytest.fixture
def actions() -> FakeActions:
    return FakeActions()


@pytest.fixture
def token() -> str | None:
    """Overridden by tests of a server with the operator endpoints disabled."""
    return TOKEN


@pytest.fixture
async def server(
    source: FakeSource, actions: FakeActions, token: str | None
) -> AsyncIterator[StatusServer]:
    server = StatusServer(HttpSettings(host="127.0.0.1", port=0, token=token), source, actions)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def base_url(server: StatusServer) -> str:
    return f"http://127.0.0.1:{server.port}"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session
