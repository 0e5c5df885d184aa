"""The chargers caught drawing more than allowed survive a restart in the store; an
unreadable record of them is logged and left out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from adapters.files.app_config import load_app_config
from adapters.runtime import SiteRuntime
from adapters.runtime.compliance_memory import (
    COMPLIANCE_SETTING,
    ComplianceMemory,
    remembered_noncompliance,
)
from adapters.storage.sqlite import SqliteStore
from ems.bounds import NON_COMPLIANT_BEFORE
from tests.adapters.runtime.site import stored_setting, write_site
from tests.e2e.rig import wait_until
from tests.ems.fakes import FairShareSolver
from tests.ems.test_controller import flagged_then_back

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_a_charger_caught_drawing_too_much_is_written_once(tmp_path: Path) -> None:
    path = tmp_path / "site.sqlite"
    store = SqliteStore(path)
    memory = ComplianceMemory(store)
    h = flagged_then_back(FairShareSolver(), 10.0)
    memory.keep(h.controller.view(), AT)
    assert stored_setting(path, COMPLIANCE_SETTING) == {"connectors": ["a/1"]}
    store.put_setting(COMPLIANCE_SETTING, {"connectors": ["changed/1"]}, AT)
    memory.keep(h.controller.view(), AT)  # the same as kept: not written again
    assert stored_setting(path, COMPLIANCE_SETTING) == {"connectors": ["changed/1"]}
    store.close()


def test_nothing_is_written_while_no_charger_was_caught(tmp_path: Path) -> None:
    path = tmp_path / "site.sqlite"
    store = SqliteStore(path)
    h = flagged_then_back(FairShareSolver(), 10.0)
    view = h.controller.view()
    clean = type(view)(**{**view.__dict__, "connectors": view.connectors[1:]})
    ComplianceMemory(store).keep(clean, AT)
    assert stored_setting(path, COMPLIANCE_SETTING) is None
    store.close()


@pytest.mark.parametrize("value", [{"connectors": "CP2/1"}, {"connectors": [1, 2]}, {}])
def test_an_unreadable_record_puts_no_session_on_probation(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, value: dict[str, object]
) -> None:
    store = SqliteStore(tmp_path / "site.sqlite")
    store.put_setting(COMPLIANCE_SETTING, value, AT)
    with caplog.at_level(logging.ERROR):
        assert remembered_noncompliance(store, {"CP2/1"}, AT) == []
    assert f"setting {COMPLIANCE_SETTING} is not a list of connectors" in caplog.text
    store.close()


async def test_a_restart_keeps_the_chargers_caught_drawing_too_much(tmp_path: Path) -> None:
    config = load_app_config(write_site(tmp_path))
    store = SqliteStore(config.store.path)
    store.put_setting(COMPLIANCE_SETTING, {"connectors": ["CP2/1", "CP9/1"]}, AT)
    store.close()
    runtime = SiteRuntime(config)
    await runtime.start()
    try:
        by_key = {c.key: c for c in runtime.view().connectors}
        await wait_until(lambda: runtime.view().at is not None, 20, "a control step")
        url = f"http://127.0.0.1:{runtime.http_port}/api/connectors"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            shown = {c["key"]: c for c in (await response.json())["connectors"]}
    finally:
        await runtime.stop()
    assert by_key["CP2/1"].caught_before
    assert by_key["CP2/1"].bound_source == NON_COMPLIANT_BEFORE
    assert not by_key["CP1/1"].caught_before
    assert shown["CP2/1"]["caught_drawing_too_much"] is True
    assert shown["CP1/1"]["caught_drawing_too_much"] is False
    # written back as the controller sees it: the connector nobody configured left out
    assert stored_setting(config.store.path, COMPLIANCE_SETTING) == {"connectors": ["CP2/1"]}


async def test_a_charger_the_operator_trusts_again_is_forgotten_across_a_restart(
    tmp_path: Path,
) -> None:
    config = load_app_config(write_site(tmp_path))
    store = SqliteStore(config.store.path)
    store.put_setting(COMPLIANCE_SETTING, {"connectors": ["CP2/1"]}, AT)
    store.close()
    runtime = SiteRuntime(config)
    await runtime.start()
    try:
        await wait_until(lambda: runtime.view().at is not None, 20, "a control step")
        assert {c.key for c in runtime.view().connectors if c.caught_before} == {"CP2/1"}
        url = f"http://127.0.0.1:{runtime.http_port}/api/chargers/CP2/connectors/1/trust"
        headers = {"Authorization": "Bearer operator-token-for-tests"}
        async with aiohttp.ClientSession() as http, http.post(url, headers=headers) as response:
            assert response.status == 200, await response.text()
        await wait_until(
            lambda: not any(c.caught_before for c in runtime.view().connectors),
            20,
            "CP2/1 no longer caught",
        )
    finally:
        await runtime.stop()
    assert stored_setting(config.store.path, COMPLIANCE_SETTING) == {"connectors": []}
    runtime = SiteRuntime(config)
    await runtime.start()
    try:
        await wait_until(lambda: runtime.view().at is not None, 20, "a control step")
        assert not any(c.caught_before for c in runtime.view().connectors)
    finally:
        await runtime.stop()
