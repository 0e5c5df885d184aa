"""`ems plan`: the dry-run, on real config files, snapshots and HiGHS; nothing is sent."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import ocpp
import pytest
from click.testing import CliRunner, Result

from adapters.cli.main import cli
from adapters.files.scenario import load_scenario
from ems.replay import replay

ROOT = Path(__file__).resolve().parents[3]
SCHEMAS = Path(ocpp.__file__).parent
AT = "2025-03-03T09:00:00Z"

SITE_TOML = """\
[site]
name = "two chargers"
limit_a = 32
worst_base_load_a = 10

[[chargers]]
id = "CP-A"
  [[chargers.connectors]]
  connector_id = 1
  phases = "L1L2L3"
  max_current_a = 32

[[chargers]]
id = "CP-B"
  [[chargers.connectors]]
  connector_id = 1
  phases = "L2L3L1"
  max_current_a = 32
"""


def _snapshot(**overrides: Any) -> dict[str, Any]:
    """Two 3-phase EVs; the site meter reads 10 A of base load on every phase."""
    snapshot: dict[str, Any] = {
        "at": AT,
        "meter": {"current_a": [10.0, 10.0, 10.0]},
        "chargers": {
            "CP-A": {
                "protocol": "ocpp1.6",
                "capabilities": {"rate_units": ["A", "W"], "max_periods": 3},
                "connectors": {"1": {"status": "Charging", "session": {"transaction_id": 41}}},
            },
            "CP-B": {
                "protocol": "ocpp2.0.1",
                "capabilities": {"rate_units": ["W"], "max_periods": 3},
                "connectors": {"1": {"status": "Charging", "session": {"transaction_id": "tx-b"}}},
            },
        },
    }
    snapshot.update(overrides)
    return snapshot


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(SITE_TOML)
    return path


def _write(tmp_path: Path, snapshot: dict[str, Any]) -> Path:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(snapshot, indent=2))
    return path


def _plan(*args: str) -> Result:
    return CliRunner().invoke(cli, ["plan", *args])


def _plan_json(*args: str) -> dict[str, Any]:
    result = _plan(*args, "--json")
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _assert_schema_valid(protocol: str, payload: dict[str, Any]) -> None:
    if protocol == "ocpp1.6":
        path = SCHEMAS / "v16" / "schemas" / "SetChargingProfile.json"
    else:
        path = SCHEMAS / "v201" / "schemas" / "SetChargingProfileRequest.json"
    # Decimal, as on the wire: 10.3 is a multiple of 0.1, its binary float is not.
    schema = json.loads(path.read_text(encoding="utf-8-sig"), parse_float=Decimal)
    wire = json.loads(json.dumps(payload), parse_float=Decimal)
    jsonschema.validators.validator_for(schema)(schema).validate(wire)


def _tx(document: dict[str, Any], charger_id: str) -> dict[str, Any]:
    return next(
        p for p in document["payloads"] if p["charger_id"] == charger_id and p["purpose"] == "tx"
    )


def test_two_evs_share_what_the_base_load_leaves(tmp_path: Path, config: Path) -> None:
    # 32 A limit - 10 A base load = 22 A per phase, shared by two 3-phase EVs: 11 A each.
    document = _plan_json("--config", str(config), "--state", str(_write(tmp_path, _snapshot())))
    connectors = {c["key"]: c for c in document["connectors"]}
    for key in ("CP-A/1", "CP-B/1"):
        assert connectors[key]["allowed_a"] == {"L1": 11.0, "L2": 11.0, "L3": 11.0}
        assert connectors[key]["state"] == "charging"
        assert connectors[key]["power_w"] == pytest.approx(11 * 3 * 230)
        assert connectors[key]["bottleneck"].startswith("site-L")
    site = document["site"]
    assert site["base_load_a"] == {"L1": 10.0, "L2": 10.0, "L3": 10.0}
    assert site["headroom_a"] == {"L1": 0.0, "L2": 0.0, "L3": 0.0}
    assert site["mode"] == "normal"


def test_payloads_carry_the_limit_and_are_schema_valid(tmp_path: Path, config: Path) -> None:
    document = _plan_json("--config", str(config), "--state", str(_write(tmp_path, _snapshot())))
    for payload in document["payloads"]:
        assert payload["sent"] is False
        assert payload["error"] is None
        _assert_schema_valid(payload["protocol"], payload["payload"])
    a = _tx(document, "CP-A")["payload"]
    assert a["connectorId"] == 1
    profile = a["csChargingProfiles"]
    assert profile["chargingProfileId"] == 3001
    assert profile["transactionId"] == 41
    assert profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 11.0
    # CP-B takes W only: 11 A x 230 V x 3 phases.
    b = _tx(document, "CP-B")["payload"]["chargingProfile"]
    assert b["transactionId"] == "tx-b"
    schedule = b["chargingSchedule"][0]
    assert schedule["chargingRateUnit"] == "W"
    assert schedule["chargingSchedulePeriod"][0]["limit"] == 7590.0
    purposes = {(p["charger_id"], p["purpose"]) for p in document["payloads"]}
    assert ("CP-A", "station_max") in purposes
    assert ("CP-B", "tx_default") in purposes


def test_dry_run_opens_no_connection(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the dry-run tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "bind", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    result = _plan("--config", str(config), "--state", str(_write(tmp_path, _snapshot())))
    assert result.exit_code == 0, result.output
    assert "not sent (dry-run)" in result.stdout
    help_text = _plan("--help").stdout
    assert "--url" not in help_text
    assert "--host" not in help_text


def test_json_document_has_stable_keys(tmp_path: Path, config: Path) -> None:
    document = _plan_json("--config", str(config), "--state", str(_write(tmp_path, _snapshot())))
    assert list(document) == [
        "dry_run",
        "sent",
        "at",
        "site",
        "connectors",
        "fallbacks",
        "chargers",
        "payloads",
        "horizon",
        "money",
        "grid_caps",
    ]
    assert document["money"] is None  # no [tariff]
    assert document["grid_caps"] == []
    assert document["dry_run"] is True
    assert document["sent"] is False
    assert document["at"] == AT
    assert set(document["connectors"][0]) == {
        "key",
        "charger_id",
        "connector_id",
        "status",
        "state",
        "transaction_id",
        "limit_a",
        "allowed_a",
        "power_w",
        "drawn_a",
        "reason",
        "bottleneck",
        "fallback_a",
        "need_kwh",
        "departure",
        "charging_mode",
        "why",
    }
    assert set(document["payloads"][0]) == {
        "charger_id",
        "protocol",
        "action",
        "connector_id",
        "purpose",
        "profile_id",
        "reason",
        "sent",
        "payload",
        "error",
    }
    assert document["horizon"] is None


def test_config_alone_shows_the_fallback_arithmetic(config: Path) -> None:
    # With no controller, both chargers at their fallback must fit 32 - 10 = 22 A.
    document = _plan_json("--config", str(config), "--at", AT)
    fallbacks = document["fallbacks"]
    assert fallbacks["connectors"] == {"CP-A/1": 11.0, "CP-B/1": 11.0}
    assert fallbacks["fits"] is True
    site_l1 = next(limit for limit in fallbacks["limits"] if limit["name"] == "site-L1")
    assert (site_l1["room"], site_l1["total"], site_l1["fits"]) == (22.0, 22.0, True)
    assert all(c["state"] == "idle" for c in document["connectors"])
    assert {p["purpose"] for p in document["payloads"]} == {"station_max", "tx_default"}
    assert document["site"]["mode"] == "conservative"

    text = _plan("--config", str(config), "--at", AT).stdout
    assert "check site-L1: fallbacks sum to 22 A of 22 A: fits" in text
    assert "CP-A/1: fallback 11 A, set by site-L1" in text
    assert "not sent (dry-run)" in text


def test_horizon_gives_the_earlier_departure_more_early(tmp_path: Path, config: Path) -> None:
    # A needs 13 kWh within the hour (about 18.8 A per phase of the 22 A left); B has all
    # day for 20 kWh. Over A's hour, A must get most of the room.
    snapshot = _snapshot()
    sessions = {
        "CP-A": {"energy_need_wh": 13000, "departure": "2025-03-03T10:00:00Z"},
        "CP-B": {"energy_need_wh": 20000, "departure": "2025-03-03T19:00:00Z"},
    }
    for charger_id, need in sessions.items():
        snapshot["chargers"][charger_id]["connectors"]["1"]["session"].update(need)
    state = str(_write(tmp_path, snapshot))
    document = _plan_json("--config", str(config), "--state", state, "--horizon", "12h")
    horizon = document["horizon"]
    assert horizon["steps"] == 48
    assert horizon["step_s"] == 900
    a, b = horizon["current_a"]["CP-A/1"], horizon["current_a"]["CP-B/1"]
    first_hour = 4
    assert sum(a[:first_hour]) > sum(b[:first_hour])
    assert sum(a[:first_hour]) * 0.25 * 3 * 230 >= 13000 * 0.99
    assert all(value == 0 for value in a[first_hour:])
    for profile in horizon["profiles"]:
        _assert_schema_valid(profile["protocol"], profile["payload"])
    periods = _tx_periods(horizon["profiles"], "CP-A")
    assert len(periods) <= 3  # the charger's ChargingScheduleMaxPeriods
    assert periods[-1]["limit"] == 0.0  # the merged tail at its lowest limit

    text = _plan("--config", str(config), "--state", state, "--horizon", "12h").stdout
    assert "Schedule: A per phase, 48 steps of 15 min" in text
    assert "2025-03-03 09:45" in text
    assert "Horizon profiles: not sent (dry-run)" in text


def _tx_periods(profiles: list[dict[str, Any]], charger_id: str) -> list[dict[str, Any]]:
    payload = next(p for p in profiles if p["charger_id"] == charger_id)["payload"]
    periods: list[dict[str, Any]] = payload["csChargingProfiles"]["chargingSchedule"][
        "chargingSchedulePeriod"
    ]
    return periods


def test_bad_snapshot_names_file_line_and_field(tmp_path: Path, config: Path) -> None:
    snapshot = _snapshot()
    snapshot["chargers"]["CP-A"]["connectors"]["1"]["session"]["departure"] = "tomorrow"
    path = _write(tmp_path, snapshot)
    result = _plan("--config", str(config), "--state", str(path))
    assert result.exit_code == 2
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "tomorrow" in text)
    assert (
        f"{path}:{line}: chargers.CP-A.connectors.1.session.departure: "
        "not an ISO 8601 time: 'tomorrow'"
    ) in result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"at": "2025-03-03T09:00:00Z",\n "meter": {"current_a": [1, 2]}}', ":2: meter.current_a"),
        ('{"chargers": {"CP-Z": {}}}', ":1: chargers.CP-Z: no such charger in the config"),
        ('{"at": "2025-03-03T09:00:00Z",\n  "meter": ', ":2: not valid JSON"),
        (
            '{"chargers": {"CP-A": {"connectors": {"1": {"session": {"transaction_id": "x"}}}}}}',
            "transaction_id: must be an integer for an OCPP 1.6 charger",
        ),
    ],
)
def test_bad_snapshot_inputs(tmp_path: Path, config: Path, text: str, expected: str) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text(text)
    result = _plan("--config", str(config), "--state", str(path))
    assert result.exit_code == 2
    assert f"error: {path}" in result.output
    assert expected in result.output


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    result = _plan("--config", str(tmp_path / "nowhere.toml"))
    assert result.exit_code == 2
    assert f"error: {tmp_path / 'nowhere.toml'}: cannot read" in result.output
    assert _plan().exit_code == 2


def test_help_explains_every_option_with_examples() -> None:
    result = _plan("--help")
    assert result.exit_code == 0
    for option in ("--config", "--state", "--at", "--horizon", "--scenario", "--json"):
        assert option in result.stdout
    assert "ems plan --config examples/site.toml --state" in result.stdout
    assert "12h" in result.stdout


def test_example_snapshot_plans_with_valid_payloads() -> None:
    document = _plan_json(
        "--config",
        str(ROOT / "examples" / "site.toml"),
        "--state",
        str(ROOT / "examples" / "snapshots" / "office-garage.json"),
        "--horizon",
        "2h",
    )
    payloads = document["payloads"] + document["horizon"]["profiles"]
    assert payloads
    for payload in payloads:
        _assert_schema_valid(payload["protocol"], payload["payload"])
    assert all(c["state"] == "charging" for c in document["connectors"])
    total = document["site"]["allowed_total_a"]
    assert all(total[p] <= document["site"]["limit_a"] + 1e-6 for p in ("L1", "L2", "L3"))


def test_scenario_at_a_moment_plans_the_sessions_present() -> None:
    document = _plan_json(
        "--scenario", str(ROOT / "scenarios" / "small"), "--at", "2025-03-03T08:50:00Z"
    )
    # At 08:50 s-0002 (cp001/2), s-0003 (cp002/1) and s-0004 (cp002/2) are plugged in.
    sessions = {c["key"]: c["transaction_id"] for c in document["connectors"]}
    assert sessions["cp001/2"] == "s-0002"
    assert sessions["cp002/1"] == "s-0003"
    assert sessions["cp001/1"] is None
    assert document["site"]["meter_current_a"] == {"L1": 5.2, "L2": 4.8, "L3": 5.0}
    assert {c["protocol"] for c in document["chargers"]} == {"ocpp2.0.1"}
    for payload in document["payloads"]:
        _assert_schema_valid(payload["protocol"], payload["payload"])


def test_scenario_plans_what_each_session_still_needs_at_the_moment() -> None:
    at = datetime(2025, 3, 3, 8, 50, tzinfo=UTC)
    loaded = load_scenario(ROOT / "scenarios" / "small")
    delivered = replay(loaded.scenario, "optimal", control=loaded.control).delivered_before(at)
    document = _plan_json(
        "--scenario", str(ROOT / "scenarios" / "small"), "--at", "2025-03-03T08:50:00Z"
    )
    by_session = {c["transaction_id"]: c for c in document["connectors"] if c["transaction_id"]}
    requests = {s.session_id: s.energy_wh for s in loaded.scenario.sessions}
    # s-0003 has charged since 08:00: it needs less than its request, by what it got.
    assert 0.0 < delivered["s-0003"] < requests["s-0003"]
    for session_id, connector in by_session.items():
        still_needed_wh = requests[session_id] - delivered[session_id]
        assert connector["need_kwh"] == pytest.approx(still_needed_wh / 1000.0, abs=1e-3)
    assert by_session["s-0003"]["departure"] == "2025-03-03T10:53:00Z"


@pytest.fixture(scope="module")
def office_plans() -> tuple[Result, Result]:
    """`ems plan` of the office-day-ahead scenario at 09:00, as JSON and as text: each
    replays the scenario up to then, read-only, so the tests below share the two runs."""
    scenario = str(ROOT / "scenarios" / "office-day-ahead")
    at = "2025-10-07T09:00:00Z"
    return _plan("--scenario", scenario, "--at", at, "--json"), _plan(
        "--scenario", scenario, "--at", at
    )


def test_scenario_with_a_tariff_shows_the_prices_and_the_peak_it_plans_against(
    office_plans: tuple[Result, Result],
) -> None:
    result, text = office_plans
    assert result.exit_code == 0, result.output
    money = json.loads(result.stdout)["money"]
    prices = {p["from"]: p["price_per_kwh"] for p in money["prices"]}
    assert prices["2025-10-07T09:00:00Z"] == 0.2135
    assert prices["2025-10-07T13:00:00Z"] == 0.1624
    assert money["demand_charge_per_kw"] == 0.4
    assert money["peak_cap_kw"] >= 0.0
    assert "Money the plan weighed" in text.stdout
    assert "demand charge 0.4 per kW" in text.stdout


def test_scenario_needs_a_moment() -> None:
    result = _plan("--scenario", str(ROOT / "scenarios" / "small"))
    assert result.exit_code == 2
    assert "--scenario needs --at" in result.output


def test_scenario_with_a_tariff_says_why_each_session_charges_when_it_does(
    office_plans: tuple[Result, Result],
) -> None:
    result, text = office_plans
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    whys = {c["key"]: c["why"] for c in document["connectors"] if c["transaction_id"]}
    assert whys
    for why in whys.values():
        assert why.startswith("planned: needs ")
        assert "its energy goes to the cheapest periods before then (" in why
        assert "13:00 UTC 0.1624" in why
        assert "now 0.2135 per kWh" in why
    assert all(c["why"] is None for c in document["connectors"] if not c["transaction_id"])
    assert "When each session charges, and why:" in text.stdout


def test_a_grid_operators_cap_is_planned_with_and_shown(tmp_path: Path, config: Path) -> None:
    (tmp_path / "caps.csv").write_text(
        "timestamp,limit_a,power_limit_kw\n"
        "2025-03-03T08:00:00Z,26,\n"
        "2025-03-03T17:00:00Z,,11\n"
        "2025-03-03T20:00:00Z,,\n"
    )
    config.write_text(
        config.read_text().replace("[site]\n", '[site]\ngrid_caps_file = "caps.csv"\n')
    )
    state = str(_write(tmp_path, _snapshot()))

    document = _plan_json("--config", str(config), "--state", state)
    text = _plan("--config", str(config), "--state", state)

    # 26 A less 10 A of base load, shared by the two EVs
    connectors = {c["key"]: c for c in document["connectors"]}
    assert connectors["CP-A/1"]["allowed_a"] == {"L1": 8.0, "L2": 8.0, "L3": 8.0}
    assert document["site"]["limit_a"] == 26.0
    assert document["site"]["limit_reason"] == "grid operator cap from 2025-03-03T08:00+00:00"
    assert document["grid_caps"] == [
        {"from": "2025-03-03T08:00:00Z", "limit_a": 26.0, "power_limit_w": None},
        {"from": "2025-03-03T17:00:00Z", "limit_a": None, "power_limit_w": 11000.0},
        {"from": "2025-03-03T20:00:00Z", "limit_a": None, "power_limit_w": None},
    ]
    assert text.exit_code == 0, text.output
    assert "site limit: grid operator cap from 2025-03-03T08:00+00:00" in text.output
    assert "Grid operator caps ahead" in text.output
