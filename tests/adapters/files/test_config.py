from pathlib import Path

import pytest

from adapters.files.config import load_config, parse_config, parse_toml
from adapters.files.errors import InputFileError
from adapters.files.site_config import parse_site
from ems.site import ControlSettings
from optimizer.problem import Phase

EXAMPLE = Path(__file__).parents[3] / "examples" / "site.toml"

GOOD = """\
[site]
name = "garage"
limit_a = 63
worst_base_load_a = 20

[[circuits]]
id = "row"
limit_a = 32

[[chargers]]
id = "cp1"
[[chargers.connectors]]
connector_id = 1
phases = "L2L3L1"
max_current_a = 32
circuit = "row"

[[chargers]]
id = "cp2"
fallback_a = 6
[[chargers.connectors]]
connector_id = 1
phases = "L3"
max_current_a = 16
min_current_a = 0

[control]
period_s = 5
meter_recover_readings = 2
"""


def error_for(text: str) -> InputFileError:
    with pytest.raises(InputFileError) as caught:
        parse_config(text, "site.toml")
    return caught.value


def replaced(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_the_shipped_example_loads() -> None:
    config = load_config(EXAMPLE)
    assert config.site.name == "Office garage"
    assert config.site.limits.power_limit_w == 40_000
    assert config.site.worst_base_load_a == (25.0, 20.0, 20.0)
    assert len(config.site.connectors()) == 3
    assert config.control == ControlSettings()


def test_good_config_is_typed() -> None:
    config = parse_config(GOOD, "site.toml")
    first, second = config.site.connectors()
    assert first.phases == (Phase.L2, Phase.L3, Phase.L1)
    assert first.circuit == "row"
    assert second.phases == (Phase.L3,)
    assert second.min_current_a == 0
    assert config.site.chargers[1].fallback_a == 6
    assert config.site.worst_base_load_a == (20.0, 20.0, 20.0)
    assert config.control.period_s == 5
    assert config.control.meter_recover_readings == 2


def test_other_edges_sections_are_kept_not_rejected() -> None:
    text = GOOD + '\n[ocpp]\nport = 9000\n\n[[meters]]\nid = "main"\n\n[http]\n\n[store]\n'
    config = parse_config(text, "site.toml")
    assert config.data["ocpp"] == {"port": 9000}
    assert config.data["meters"] == [{"id": "main"}]


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            'phases = "L3"',
            'phases = "L4"',
            "chargers[1].connectors[0].phases",
            "unknown phase 'L4'",
        ),
        ('phases = "L3"', 'phases = "L3L3"', "chargers[1].connectors[0].phases", "twice"),
        (
            "max_current_a = 16",
            "max_current_a = -3",
            "chargers[1].connectors[0].max_current_a",
            "> 0",
        ),
        (
            "min_current_a = 0",
            "min_current_a = 20",
            "chargers[1].connectors[0].min_current_a",
            "above",
        ),
        (
            'circuit = "row"',
            'circuit = "rwo"',
            "chargers[0].connectors[0].circuit",
            "did you mean 'row'",
        ),
        ('id = "cp2"', 'id = "cp1"', "chargers[1].id", "duplicate charger id"),
        (
            "max_current_a = 32\n",
            'max_current_a = "32"\n',
            "chargers[0].connectors[0].max_current_a",
            "expected a number",
        ),
        ("limit_a = 63", "limit_a = true", "site.limit_a", "expected a number"),
        ("period_s = 5", "period_s = 0", "control.period_s", "must be at least 0.1 s (got 0 s)"),
        (
            "meter_recover_readings = 2",
            "meter_recover_readings = 1.5",
            "control.meter_recover_readings",
            "integer",
        ),
        ("period_s = 5", "perod_s = 5", "control.perod_s", "did you mean 'period_s'"),
        (
            "max_current_a = 16",
            "max_curent_a = 16",
            "chargers[1].connectors[0].max_curent_a",
            "did you mean 'max_current_a'",
        ),
        (
            "worst_base_load_a = 20",
            "worst_base_load_a = [1, 2]",
            "site.worst_base_load_a",
            "3 values",
        ),
        ("worst_base_load_a = 20", "worst_base_load_a = 70", "site.worst_base_load_a", "exceeds"),
        (
            "worst_base_load_a = 20",
            "pv_peak_a = [10, -1, 10]",
            "site.pv_peak_a",
            "must be >= 0 (got -1)",
        ),
    ],
)
def test_bad_value_names_file_line_and_field(old: str, new: str, field: str, message: str) -> None:
    text = replaced(old, new)
    error = error_for(text)
    assert error.field == field
    assert message in error.message
    assert str(error.path) == "site.toml"
    assert error.line == line_of(GOOD, old.strip().splitlines()[0])
    assert str(error).startswith(f"site.toml:{error.line}: {field}: ")


def test_missing_required_key_points_at_its_table() -> None:
    text = replaced('phases = "L3"\n', "")
    error = error_for(text)
    assert error.field == "chargers[1].connectors[0].phases"
    assert "missing required key 'phases'" in error.message
    assert error.line == 21  # the [[chargers.connectors]] header of cp2


def test_missing_site_table() -> None:
    error = error_for("[control]\nperiod_s = 5\n")
    assert error.field == "site"
    assert "missing" in error.message


def test_unknown_top_level_section_suggests_the_closest() -> None:
    error = error_for(GOOD + "\n[contrl]\nperiod_s = 3\n")
    assert error.field == "contrl"
    assert "did you mean 'control'" in error.message


def test_circuit_on_unknown_parent_and_cycle() -> None:
    text = replaced("limit_a = 32\n", 'limit_a = 32\nparent = "nowhere"\n')
    error = error_for(text)
    assert error.field == "circuits[0].parent"
    assert "unknown circuit 'nowhere'" in error.message
    cyclic = GOOD.replace(
        '[[circuits]]\nid = "row"\nlimit_a = 32\n',
        '[[circuits]]\nid = "row"\nlimit_a = 32\nparent = "hall"\n\n'
        '[[circuits]]\nid = "hall"\nlimit_a = 40\nparent = "row"\n',
    )
    error = error_for(cyclic)
    assert error.field == "circuits[0].parent"
    assert "cycle: row -> hall -> row" in error.message
    assert error.line == 9


def test_duplicate_connector_and_circuit_ids() -> None:
    text = GOOD.replace(
        'circuit = "row"\n',
        'circuit = "row"\n[[chargers.connectors]]\nconnector_id = 1\n'
        'phases = "L1"\nmax_current_a = 16\n',
    )
    error = error_for(text)
    assert error.field == "chargers[0].connectors[1].connector_id"
    assert "duplicate connector_id 1" in error.message
    text = GOOD.replace(
        '[[chargers]]\nid = "cp1"',
        '[[circuits]]\nid = "row"\nlimit_a = 10\n\n[[chargers]]\nid = "cp1"',
    )
    assert error_for(text).field == "circuits[1].id"


def test_toml_syntax_error_has_its_line() -> None:
    error = error_for(GOOD.replace("limit_a = 63", "limit_a = = 63"))
    assert error.line == 3
    assert "not valid TOML" in error.message


def test_parse_site_serves_a_scenario_file_with_other_keys() -> None:
    data = parse_toml(GOOD + "\n[scenario]\nstep_s = 300\n", "scenario/site.toml")
    site = parse_site(data, "scenario/site.toml", GOOD)
    assert site.name == "garage"


def test_unreadable_file_is_an_input_file_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


MINIMAL = GOOD[: GOOD.index("[control]")]


def test_boolean_control_settings_are_read_and_checked(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(MINIMAL + "[control]\nreserve_for_arrivals = false\n")
    assert load_config(good).control.reserve_for_arrivals is False
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL + '[control]\npriority_from_laxity = "yes"\n')
    with pytest.raises(InputFileError) as caught:
        load_config(bad)
    assert caught.value.field == "control.priority_from_laxity"
    assert caught.value.line == MINIMAL.count("\n") + 2
