"""The status page in headless Chromium: after its scripts ran, it shows the connectors."""

from __future__ import annotations

import dataclasses
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.http.browser import PHONE, dump_dom, evaluate, find_chromium, screenshot
from tests.adapters.http.conftest import TOKEN
from tests.adapters.http.fakes import FakeActions, FakeSource

CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (/usr/bin/chromium; on Debian: apt-get install chromium)",
)


class Rows(HTMLParser):
    """The connector rows of the rendered table: key → {field: text}, a select's text
    being its selected option's, as a person sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.classes: dict[str, str] = {}
        self._row: str | None = None
        self._field: str | None = None
        self._unselected = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "option":
            self._unselected = "selected" not in attributes
        elif tag == "tr" and attributes.get("data-connector"):
            self._row = attributes["data-connector"]
            assert self._row is not None
            self.rows[self._row] = {}
            self.classes[self._row] = attributes.get("class") or ""
        elif tag == "td" and self._row is not None:
            self._field = attributes.get("data-field")

    def handle_endtag(self, tag: str) -> None:
        if tag == "option":
            self._unselected = False
        elif tag == "td":
            self._field = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row is not None and self._field is not None and not self._unselected:
            row = self.rows[self._row]
            row[self._field] = (row.get(self._field, "") + " " + data).strip()


def rendered_rows(dom: str) -> Rows:
    rows = Rows()
    rows.feed(dom)
    return rows


@needs_chromium
async def test_page_shows_the_connectors(base_url: str) -> None:
    assert CHROMIUM is not None
    dom = await dump_dom(f"{base_url}/", chromium=CHROMIUM, timeout_s=90)

    rows = rendered_rows(dom)

    assert list(rows.rows) == ["cp1/1", "cp2/1", "cp2/2", "cp3/1"]
    assert rows.rows["cp1/1"]["state"] == "charging"
    assert rows.rows["cp1/1"]["allowed"] == "16.0 16.0 16.0"
    assert rows.rows["cp2/1"]["drawn"] == "0.0 9.7 0.0"
    assert rows.rows["cp2/2"]["reason"] == "insufficient capacity"
    assert rows.rows["cp3/1"]["drawn"] == "— — —"
    assert "state-paused" in rows.classes["cp2/2"]
    assert "Depot Nord" in dom
    assert "mode normal" in dom
    assert 'data-phase="L2"' in dom


@needs_chromium
async def test_page_shows_conservative_mode(base_url: str, source: FakeSource) -> None:
    assert CHROMIUM is not None
    site = dataclasses.replace(source.current.site, mode="conservative")
    source.current = dataclasses.replace(source.current, site=site)

    dom = await dump_dom(f"{base_url}/", chromium=CHROMIUM, timeout_s=90)

    assert "mode conservative" in dom
    assert "controller in conservative mode" in dom


CONNECTOR_ROWS = "document.querySelectorAll('#connectors tr[data-connector]').length === 4"

TABLE_LAYOUT = """(() => {
  const page = document.documentElement;
  const table = document.getElementById("connectors");
  let scroller = table.parentElement;
  while (scroller && !["auto", "scroll"].includes(getComputedStyle(scroller).overflowX)) {
    scroller = scroller.parentElement;
  }
  return {
    viewport: page.clientWidth,
    page: page.scrollWidth,
    table_right: table.getBoundingClientRect().right,
    scroller_right: scroller ? scroller.getBoundingClientRect().right : null,
    scroller_hides: scroller ? scroller.scrollWidth - scroller.clientWidth : null,
  };
})()"""
"""Where the connector table ends, and the box that scrolls it sideways if one does."""


@needs_chromium
async def test_the_connector_table_fits_a_phone(base_url: str) -> None:
    assert CHROMIUM is not None

    layout = await evaluate(
        f"{base_url}/", TABLE_LAYOUT, ready=CONNECTOR_ROWS, viewport=PHONE, chromium=CHROMIUM
    )

    assert layout["viewport"] == PHONE.width
    # The page itself does not run off the screen...
    assert layout["page"] <= layout["viewport"], layout
    # ...and what of the table is not on screen, its own box scrolls into view.
    if layout["table_right"] > layout["viewport"]:
        assert layout["scroller_right"] <= layout["viewport"], layout
        assert layout["scroller_hides"] >= layout["table_right"] - layout["viewport"], layout


@needs_chromium
async def test_screenshot(base_url: str, tmp_path: Path) -> None:
    assert CHROMIUM is not None

    path = await screenshot(f"{base_url}/", tmp_path / "page.png", chromium=CHROMIUM, timeout_s=90)

    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


async def act_as_operator(base_url: str, script: str) -> Any:
    """What `script` returns once run on the page, its `TOKEN` replaced by the operator
    token (typed into the page by the script, as an operator would)."""
    assert CHROMIUM is not None
    return await evaluate(
        f"{base_url}/",
        script.replace("TOKEN", json.dumps(TOKEN)),
        ready=CONNECTOR_ROWS,
        chromium=CHROMIUM,
        timeout_s=90,
    )


CHOOSE_SOLAR = """(async () => {
  const select = document.querySelector('tr[data-connector="cp2/1"] select.mode-choice');
  const note = document.getElementById("operator-note");
  const choose = async (mode) => {
    select.value = mode;
    select.dispatchEvent(new Event("change"));
    while (note.hidden || note.textContent === shown) await new Promise((r) => setTimeout(r, 50));
    shown = note.textContent;
    return shown;
  };
  let shown = "";
  const withoutToken = await choose("solar");
  document.getElementById("operator-token").value = "wrong";
  const wrongToken = await choose("solar");
  document.getElementById("operator-token").value = TOKEN;
  const chosen = await choose("solar");
  const cleared = await choose("");
  const idle = document.querySelector('tr[data-connector="cp3/1"] [data-field="mode"]');
  return { withoutToken, wrongToken, chosen, cleared, idle: idle.innerHTML };
})()"""
"""Changes cp2/1's mode from the page as an operator would, and what the page answered."""


@needs_chromium
async def test_an_operator_changes_a_sessions_mode_from_the_page(
    base_url: str, actions: FakeActions
) -> None:
    assert CHROMIUM is not None

    answers = await act_as_operator(base_url, CHOOSE_SOLAR)

    assert answers["withoutToken"] == "Enter the operator token to change a mode."
    assert answers["wrongToken"] == "cp2/1: not changed — wrong token"
    assert answers["chosen"] == "cp2/1: solar until the session ends"
    assert answers["cleared"] == "cp2/1: its charger's default mode until the session ends"
    assert answers["idle"] == "planned"  # no session there: nothing to choose
    assert actions.modes == [("cp2", 1, "solar"), ("cp2", 1, None)]


@needs_chromium
async def test_page_shows_a_grid_operators_cap(base_url: str, source: FakeSource) -> None:
    assert CHROMIUM is not None
    site = dataclasses.replace(
        source.current.site,
        limit_a=(25.0, 25.0, 25.0),
        power_limit_w=11000.0,
        limit_reason="grid operator cap from 2026-03-02T17:00+00:00",
    )
    source.current = dataclasses.replace(source.current, site=site)

    dom = await dump_dom(f"{base_url}/", chromium=CHROMIUM, timeout_s=90)

    assert "limit 25.0 A · 11.0 kW · grid operator cap from 2026-03-02T17:00+00:00" in dom


@needs_chromium
async def test_page_shows_the_pv_and_what_the_site_uses_of_it(
    base_url: str, http: aiohttp.ClientSession, source: FakeSource
) -> None:
    assert CHROMIUM is not None
    site = dataclasses.replace(source.current.site, pv_power_w=5200.0, net_import_w=-2100.0)
    source.current = dataclasses.replace(source.current, site=site)

    dom = await dump_dom(f"{base_url}/", chromium=CHROMIUM, timeout_s=90)
    async with http.get(f"{base_url}/api/site") as response:
        document = await response.json()
    async with http.get(f"{base_url}/metrics") as response:
        metrics = await response.text()

    assert "solar 5.2 kW · 3.1 kW used on site" in dom
    assert "exporting 2.1 kW" in dom
    assert (document["pv_power_w"], document["self_consumption_w"]) == (5200.0, 3100.0)
    assert "ems_site_pv_watts 5200.0" in metrics


TRUST_AGAIN = """(async () => {
  const button = document.querySelector('tr[data-connector="cp2/2"] button.trust-again');
  const note = document.getElementById("operator-note");
  let shown = "";
  const click = async () => {
    button.click();
    while (note.hidden || note.textContent === shown) await new Promise((r) => setTimeout(r, 50));
    shown = note.textContent;
    return shown;
  };
  const withoutToken = await click();
  document.getElementById("operator-token").value = "wrong";
  const wrongToken = await click();
  document.getElementById("operator-token").value = TOKEN;
  const trusted = await click();
  const buttons = [...document.querySelectorAll("button.trust-again")].map(
    (b) => b.closest("tr").dataset.connector);
  return { withoutToken, wrongToken, trusted, buttons };
})()"""
"""Trusts cp2/2 again from the page as an operator would, and what the page answered."""


@needs_chromium
async def test_an_operator_trusts_a_caught_charger_again_from_the_page(
    base_url: str, source: FakeSource, actions: FakeActions
) -> None:
    assert CHROMIUM is not None
    connectors = tuple(
        dataclasses.replace(c, caught_drawing_too_much=c.key == "cp2/2")
        for c in source.current.connectors
    )
    source.current = dataclasses.replace(source.current, connectors=connectors)

    answers = await act_as_operator(base_url, TRUST_AGAIN)

    assert answers["withoutToken"] == "Enter the operator token to trust a charger again."
    assert answers["wrongToken"] == "cp2/2: not changed — wrong token"
    assert answers["trusted"] == "cp2/2: trusted again; its sessions are no longer on probation"
    assert answers["buttons"] == ["cp2/2"]  # only the caught charger offers it
    assert actions.trusted == [("cp2", 2)]
