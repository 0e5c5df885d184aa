"""The demo site: a 63 A office garage with more charging power than its grid connection.

The chargers are a fixed pattern, repeated for `--chargers N`: OCPP 1.6 and 2.0.1
alternating, 16 A and 32 A, 3-phase ones with phases rotated the way installers do it,
and 1-phase ones on each site phase. `site_config_text` renders the whole controller
config as TOML — the same schema `ems run --config` reads — so the demo runs the product
exactly as a site would, only with every device simulated on 127.0.0.1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adapters.ocpp.sim import OCPP16, OCPP201

SITE_NAME = "Demo office garage"
SITE_LIMIT_A = 63.0
"""Per-phase main fuse: ten chargers of 16–32 A plus the building cannot all run at once."""
WORST_BASE_LOAD_A = (36.0, 30.0, 36.0)
"""A little above the office profile's peak per phase."""


@dataclass(frozen=True)
class DemoCharger:
    """One simulated charging station with one connector (for 2.0.1: EVSE 1)."""

    charger_id: str
    protocol: str
    phases: str
    """Site phases in the charger's phase order, as in site.toml: `L2L3L1`, `L3`."""
    max_current_a: float

    @property
    def number_phases(self) -> int:
        return len(self.phases) // 2

    @property
    def site_phases(self) -> tuple[int, ...]:
        """Site phase numbers (1..3) in the charger's phase order."""
        return tuple(int(self.phases[i + 1]) for i in range(0, len(self.phases), 2))


_PATTERN = (
    (OCPP16, "L1L2L3", 32.0),
    (OCPP201, "L2L3L1", 16.0),
    (OCPP16, "L3", 32.0),
    (OCPP201, "L1L2L3", 32.0),
    (OCPP16, "L3L1L2", 16.0),
    (OCPP201, "L2", 32.0),
    (OCPP16, "L1L2L3", 16.0),
    (OCPP201, "L2L3L1", 32.0),
    (OCPP16, "L1", 16.0),
    (OCPP201, "L3L1L2", 32.0),
)


def demo_chargers(count: int) -> tuple[DemoCharger, ...]:
    """`count` chargers named `DEMO-01`, `DEMO-02`, … following the fixed pattern."""
    if count < 1:
        raise ValueError(f"the demo needs at least one charger (got {count})")
    width = max(2, len(str(count)))
    return tuple(
        DemoCharger(f"DEMO-{i + 1:0{width}d}", *_PATTERN[i % len(_PATTERN)]) for i in range(count)
    )


def site_config_text(
    chargers: tuple[DemoCharger, ...],
    *,
    meter_port: int,
    http_port: int,
    db_path: Path,
) -> str:
    """The controller's config for the demo: site, chargers, control loop, and the edges
    (central system on a free port, the simulated meter, the status server, the store)."""
    known = ", ".join(f'"{c.charger_id}"' for c in chargers)
    worst = ", ".join(f"{a:g}" for a in WORST_BASE_LOAD_A)
    parts = [
        f"""\
[site]
name = "{SITE_NAME}"
limit_a = {SITE_LIMIT_A:g}
voltage_v = 230
worst_base_load_a = [{worst}]

[control]
# The controller keeps real time while the demo's world runs faster: react quickly.
period_s = 5
meter_stale_s = 10
min_update_interval_s = 10
pause_dwell_s = 30
taper_detect_s = 20
probe_interval_s = 60

[ocpp]
host = "127.0.0.1"
port = 0
known_chargers = [{known}]
unknown_tokens = "accept"
heartbeat_interval_s = 300

[[meters]]
id = "grid"
map = "sdm630"
host = "127.0.0.1"
port = {meter_port}
interval_s = 1.0
timeout_s = 0.5

[http]
host = "127.0.0.1"
port = {http_port}

[store]
path = "{db_path.as_posix()}"
"""
    ]
    for charger in chargers:
        parts.append(
            f"""
[[chargers]]
id = "{charger.charger_id}"
behind_meter = true

  [[chargers.connectors]]
  connector_id = 1
  phases = "{charger.phases}"
  max_current_a = {charger.max_current_a:g}
"""
        )
    return "".join(parts)
