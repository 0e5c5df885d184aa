"""The snapshot file: what it holds, and errors that name the file, line and field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.files.errors import InputFileError
from adapters.planning.snapshot import parse_snapshot
from ems.events import ConnectorStatus
from ems.site import ChargerConfig, ConnectorConfig, SiteConfig
from optimizer.problem import Phase, SiteLimits

SITE = SiteConfig(
    "test",
    SiteLimits(32.0),
    (ChargerConfig("CP1", (ConnectorConfig("CP1", 1, (Phase.L2,), 32.0),)),),
)


def _parse(text: str, protocol: str = "ocpp1.6") -> object:
    return parse_snapshot(text, "snap.json", SITE, protocol)


def test_a_full_snapshot() -> None:
    snapshot = parse_snapshot(
        """{
          "at": "2025-03-03T09:00:00+01:00",
          "meter": {"current_a": [1, null, 3], "valid": false, "reason": "timeout"},
          "chargers": {"CP1": {
            "protocol": "ocpp2.0.1", "online": false,
            "capabilities": {"rate_units": ["W"], "max_periods": 5, "max_stack_level": 0},
            "connectors": {"1": {
              "status": "SuspendedEV", "current_a": [7, 0, 0], "energy_wh": 10,
              "session": {"transaction_id": "abc", "energy_need_wh": 5000,
                          "departure": "2025-03-03T17:00:00Z", "ev_max_current_a": 16}
            }}
          }}
        }""",
        "snap.json",
        SITE,
        "ocpp1.6",
    )
    assert snapshot.at == datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    assert snapshot.meter is not None
    assert snapshot.meter.current_a == (1.0, None, 3.0)
    assert not snapshot.meter.valid
    charger = snapshot.charger("CP1")
    assert charger is not None
    assert not charger.online
    assert charger.protocol == "ocpp2.0.1"
    assert charger.capabilities is not None
    assert charger.capabilities.rate_units == ("W",)
    connector = charger.connectors[0]
    assert connector.status is ConnectorStatus.SUSPENDED_EV
    assert connector.session is not None
    assert connector.session.transaction_id == "abc"
    assert connector.session.departure == datetime(2025, 3, 3, 17, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ('{\n"at": "2025-03-03T09:00:00"}', 2, "at", "needs a UTC offset"),
        ('{\n"meter": {\n"current_a": [1, "2", 3]}}', 3, "meter.current_a.1", "must be a number"),
        ('{"meter": {}}', 1, "meter.current_a", "is required"),
        ('{\n"extra": 1}', 2, "extra", "unknown key"),
        (
            '{"chargers": {\n"CP1": {"connectors": {\n"2": {}}}}}',
            3,
            "chargers.CP1.connectors.2",
            "no such connector",
        ),
        (
            '{"chargers": {"CP1": {\n"protocol": "ocpp2.1"}}}',
            2,
            "chargers.CP1.protocol",
            "must be one of",
        ),
        (
            '{"chargers": {"CP1": {"capabilities": {\n"rate_units": ["kW"]}}}}',
            2,
            "chargers.CP1.capabilities.rate_units",
            '"A" and/or "W"',
        ),
        (
            '{"chargers": {"CP1": {"connectors": {"1": {\n"status": "Busy"}}}}}',
            2,
            "chargers.CP1.connectors.1.status",
            "unknown status",
        ),
        (
            '{"chargers": {"CP1": {"connectors": {"1": {\n"session": {"energy_need_wh": 1}}}}}}',
            2,
            "chargers.CP1.connectors.1.session.transaction_id",
            "is required",
        ),
    ],
)
def test_errors_are_located(text: str, line: int, field: str, message: str) -> None:
    with pytest.raises(InputFileError) as caught:
        _parse(text)
    error = caught.value
    assert (error.path, error.line, error.field) == ("snap.json", line, field)
    assert message in error.message


def test_an_ocpp16_charger_needs_an_integer_transaction_id() -> None:
    text = '{"chargers": {"CP1": {"connectors": {"1": {"session": {"transaction_id": "a1"}}}}}}'
    with pytest.raises(InputFileError, match=r"integer for an OCPP 1\.6"):
        _parse(text)
    assert _parse(text, "ocpp2.0.1") is not None
