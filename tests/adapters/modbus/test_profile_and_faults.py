"""Load-profile CSVs and fault windows as the simulator and virtual meter use them."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.files.errors import InputFileError
from adapters.modbus.faults import FaultKind, FaultWindow, parse_fault
from adapters.modbus.profile import PACKAGED_PROFILE, load_profile, parse_profile


def test_seconds_and_amperes_hold_then_repeat() -> None:
    profile = parse_profile("seconds,l1_a,l2_a,l3_a\n0,10,0,0\n60,-5,1,2\n", "p.csv")

    assert profile.duration_s == 120
    assert profile.current_at(59.9) == (10.0, 0.0, 0.0)
    assert profile.current_at(60) == (-5.0, 1.0, 2.0)
    assert profile.current_at(125) == (10.0, 0.0, 0.0)


def test_kilowatts_and_timestamps() -> None:
    text = (
        "# a comment\ntimestamp,l1_kw,l2_kw,l3_kw\n"
        "2025-03-03T00:00:00+00:00,2.3,0,0\n2025-03-03T00:15:00+00:00,4.6,0,0\n"
    )
    profile = parse_profile(text, "p.csv", voltage_v=230.0)

    assert profile.offsets_s == (0.0, 900.0)
    assert profile.current_at(0)[0] == pytest.approx(10.0)
    assert profile.start is not None
    assert profile.start.utcoffset() is not None


def test_import_energy_counts_only_net_import() -> None:
    profile = parse_profile("seconds,l1_a,l2_a,l3_a\n0,10,0,0\n3600,-10,0,0\n", "p.csv")

    assert profile.import_energy_wh(3600, 230.0) == pytest.approx(2300.0)
    assert profile.import_energy_wh(7200, 230.0) == pytest.approx(2300.0)
    assert profile.import_energy_wh(7200 + 1800, 230.0) == pytest.approx(3450.0)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("seconds,l1_a,l2_a,l3_a\n0,1,2,x\n", 2, "l3_a"),
        ("seconds,l1_a,l2_a,l3_a\n0,1,2,3\n0,1,2,3\n", 3, "seconds"),
        ("timestamp,l1_a,l2_a,l3_a\n2025-03-03T00:00:00,1,2,3\n", 2, "timestamp"),
        ("seconds,l1,l2,l3\n0,1,2,3\n", 1, None),
    ],
)
def test_profile_errors_name_line_and_column(text: str, line: int, column: str | None) -> None:
    with pytest.raises(InputFileError) as caught:
        parse_profile(text, "load.csv")

    assert (caught.value.line, caught.value.column) == (line, column)


def test_packaged_profile_loads() -> None:
    profile = load_profile(PACKAGED_PROFILE)

    assert profile.duration_s == 86400
    assert min(phase[1] for phase in profile.current_a) < 0  # midday export on L2


def test_missing_profile_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="cannot read"):
        load_profile(tmp_path / "none.csv")


def test_fault_windows() -> None:
    assert parse_fault("silence@30-60") == FaultWindow(FaultKind.SILENCE, 30.0, 60.0)
    assert parse_fault("stale@1.5-2").kind is FaultKind.FROZEN
    assert parse_fault("nan@0-10").active(0.0)
    assert not parse_fault("nan@0-10").active(10.0)


@pytest.mark.parametrize("text", ["silence", "boom@1-2", "drop@5-3"])
def test_bad_fault_text(text: str) -> None:
    with pytest.raises(ValueError, match=text.split("@")[0]):
        parse_fault(text)
