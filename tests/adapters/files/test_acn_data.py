"""ACN-Data sessions become a scenario as ACN-Sim reads them; a bad document is named."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.files.acn_data import AcnSiteOptions, acn_scenario, read_acn_sessions
from adapters.files.errors import InputFileError
from adapters.files.scenario import load_scenario, write_scenario
from optimizer.problem import Phase
from tests.adapters.files.acn_documents import DAY, day_of_sessions, document

OPTIONS = AcnSiteOptions(name="acn", limit_a=40.0)


def _file(tmp_path: Path, content: Any) -> Path:
    path = tmp_path / "sessions.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_the_download_wrapper_and_a_plain_list_read_the_same(tmp_path: Path) -> None:
    items = day_of_sessions()
    wrapped = read_acn_sessions(_file(tmp_path, {"_meta": {"total": 6}, "_items": items}))
    plain = read_acn_sessions(_file(tmp_path, items))
    assert wrapped == plain
    first = plain[0]
    assert first.session_id == "2_39_78_362_a"
    assert first.space_id == "CA-496"
    assert first.arrival == DAY + timedelta(hours=8)
    assert first.departure == DAY + timedelta(hours=17)
    assert first.arrival.utcoffset() == timedelta(0)
    assert first.delivered_kwh == 12.5
    assert first.requested_kwh == 14.0  # the driver's last word in the app
    assert plain[1].requested_kwh is None


def test_every_space_is_a_connector_with_rotated_phases(tmp_path: Path) -> None:
    sessions = read_acn_sessions(_file(tmp_path, day_of_sessions()))
    morning = replace(OPTIONS, end=DAY + timedelta(hours=9))
    for options in (OPTIONS, morning):
        site = acn_scenario(sessions, options).scenario.site
        connectors = site.connectors()
        assert [c.charger_id for c in connectors] == ["CA-319", "CA-327", "CA-489", "CA-496"]
        assert [c.phases[0] for c in connectors] == [Phase.L1, Phase.L2, Phase.L3, Phase.L1]
        assert all(c.max_current_a == 32.0 and c.min_current_a == 6.0 for c in connectors)
        assert site.limits.phase_limit_a == 40.0


def test_sessions_want_what_was_delivered_and_unreplayable_ones_are_listed(
    tmp_path: Path,
) -> None:
    imported = acn_scenario(read_acn_sessions(_file(tmp_path, day_of_sessions())), OPTIONS)
    sessions = {s.session_id: s for s in imported.scenario.sessions}
    assert sorted(sessions) == ["2_39_78_362_a", "2_39_79_380_d", "2_39_95_27_b", "2_39_95_27_c"]
    d = sessions["2_39_79_380_d"]
    assert d.connector == "CA-489/1"
    assert d.energy_wh == pytest.approx(20_100.0)
    assert d.max_power_w == pytest.approx(32.0 * 230.0)
    assert d.phases == 1
    assert d.departure - d.arrival == timedelta(hours=7)
    reasons = {s.session_id: s.reason for s in imported.skipped}
    assert reasons == {
        "2_39_79_380_e": "overlaps 2_39_79_380_d on space CA-489",
        "2_39_79_379_f": "disconnected before it connected",
    }


def test_requested_energy_is_the_drivers_and_sessions_without_it_are_skipped(
    tmp_path: Path,
) -> None:
    sessions = read_acn_sessions(_file(tmp_path, day_of_sessions()))
    imported = acn_scenario(sessions, replace(OPTIONS, energy="requested"))
    wanted = {s.session_id: s.energy_wh for s in imported.scenario.sessions}
    assert wanted == {"2_39_78_362_a": 14_000.0, "2_39_95_27_c": 6_000.0}
    skipped = {s.session_id for s in imported.skipped if "app" in s.reason}
    assert skipped == {"2_39_95_27_b", "2_39_79_380_d", "2_39_79_380_e"}


def test_from_and_to_keep_sessions_by_arrival(tmp_path: Path) -> None:
    sessions = read_acn_sessions(_file(tmp_path, day_of_sessions()))
    window = replace(
        OPTIONS, start=DAY + timedelta(hours=8, minutes=30), end=DAY + timedelta(hours=13)
    )
    imported = acn_scenario(sessions, window)
    assert [s.session_id for s in imported.scenario.sessions] == [
        "2_39_95_27_b",
        "2_39_79_380_d",
    ]


def test_an_imported_scenario_is_written_and_read_back(tmp_path: Path) -> None:
    sessions = read_acn_sessions(_file(tmp_path, day_of_sessions()))
    scenario = acn_scenario(sessions, replace(OPTIONS, ev_phases=3, min_current_a=0.0)).scenario
    write_scenario(scenario, tmp_path / "acn")
    loaded = load_scenario(tmp_path / "acn").scenario
    assert loaded.sessions == scenario.sessions
    assert loaded.site == scenario.site
    assert all(s.max_power_w == pytest.approx(3 * 32.0 * 230.0) for s in loaded.sessions)


def _broken(**changes: Any) -> list[dict[str, Any]]:
    items = day_of_sessions()
    items[1] = {**items[1], **changes}
    return items


@pytest.mark.parametrize(
    ("content", "field", "words"),
    [
        (_broken(connectionTime=None), "_items[1].connectionTime", "missing"),
        (_broken(disconnectTime="2019-05-06 12:00"), "_items[1].disconnectTime", "like 'Wed"),
        (_broken(kWhDelivered=-1.5), "_items[1].kWhDelivered", ">= 0"),
        (_broken(kWhDelivered="lots"), "_items[1].kWhDelivered", "kWh"),
        (_broken(spaceID=""), "_items[1].spaceID", "name"),
        (
            _broken(userInputs=[{"kWhRequested": None}]),
            "_items[1].userInputs[0].kWhRequested",
            "missing",
        ),
        (_broken(userInputs="yes"), "_items[1].userInputs", "list"),
    ],
)
def test_a_bad_document_names_the_file_and_field(
    tmp_path: Path, content: list[dict[str, Any]], field: str, words: str
) -> None:
    path = _file(tmp_path, {"_items": content})
    with pytest.raises(InputFileError) as caught:
        read_acn_sessions(path)
    assert caught.value.path == path
    assert caught.value.field == field
    assert words in caught.value.message


def test_text_that_is_not_json_names_its_line(tmp_path: Path) -> None:
    path = _file(tmp_path, '{\n  "_items": [\n    {"sessionID": "a",}\n  ]\n}\n')
    with pytest.raises(InputFileError) as caught:
        read_acn_sessions(path)
    assert caught.value.line == 3
    assert "not JSON" in str(caught.value)


def test_a_document_without_sessions_says_what_it_expected(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="_items"):
        read_acn_sessions(_file(tmp_path, {"_meta": {}}))
    with pytest.raises(InputFileError, match="session object"):
        read_acn_sessions(_file(tmp_path, [document("s", "CA-1", 1, 2, 1.0), 7]))
