"""A fault rig: the real `ems run` in a subprocess against a simulated site whose physics
the controller cannot see, and a world that lies to it.

The rig process holds the site:

- the building's true load per phase (`Building`: it may rise and fall, never above the
  configured `worst_base_load_a`);
- simulated chargers (`adapters.ocpp.sim`, OCPP 1.6 and 2.0.1) whose EVs follow a lower
  limit only after a reaction time (IEC 61851-1 allows 5 s) — or ignore every limit, or
  whose charger refuses every profile, or reconnects late after a controller restart;
- the site meter on Modbus TCP (`SiteMeter`, the project's meter simulator): the TRUE site
  current (building + every EV's actual draw mapped onto site phases) until a `MeterFault`
  starts: frozen, lagging, blind to the EVs, sign inverted, zeros (the wrong function
  code) or words swapped (the wrong word order).

It samples the true per-phase current of the site and of every circuit every 100 ms and
records each sample above a limit; it polls the controller's `/api/status` and
`/api/health` to see when it turned conservative; it can SIGKILL the controller and
start it again on the same ports and store.

    result = await run_row(ROWS["frozen"], workdir)      # one row, bounded in time
    result.over_samples, result.worst_over_a, result.time_to_conservative_s

Every server listens on 127.0.0.1. The meter and the status page take a port the OS
picks (the controller logs its ports: "central system on port N, status page on port M");
the central system's port is picked free just before the first start and kept, so
that chargers find a restarted controller where they left it. Every loop is bounded; the
controller is ended by its PID, also when a run fails.

The package, module by module:

- `site`: `SiteSpec`, `Station`, `Building` and `BASE_STATIONS`;
- `meter`: `MeterFault` and `SiteMeter`;
- `process`: `ControllerProcess`, `ems_command`, `free_port` and the process clean-up;
- `results`: `Sample`, `Observation` and `RowResult`;
- `rows`: `Action`, `FaultRow`, the action constructors, `ROWS` and `select_rows`;
- `config`: `config_text`, the controller's TOML config for a row;
- `rig`: `FaultRig` and `run_row`.
"""

from benchmarks.fault_rig.results import RowResult
from benchmarks.fault_rig.rig import run_row
from benchmarks.fault_rig.rows import ROWS, select_rows
from benchmarks.fault_rig.site import SiteSpec

__all__ = ["ROWS", "RowResult", "SiteSpec", "run_row", "select_rows"]
