"""Regenerate the reference scenarios in this folder from their seeded generators.

    .venv/bin/python scenarios/generate.py

The generators live in `ems.replay.synthetic` and `ems.replay.cost_scenarios`; the same
seed always writes the same files.
"""

from __future__ import annotations

from pathlib import Path

from adapters.files.scenario import write_scenario
from ems.replay.cost_scenarios import COST_REFERENCE
from ems.replay.synthetic import REFERENCE


def main() -> None:
    here = Path(__file__).resolve().parent
    for name, generate in {**REFERENCE, **COST_REFERENCE}.items():
        write_scenario(generate(), here / name)
        print(f"wrote {here / name}")


if __name__ == "__main__":
    main()
