"""Every search attribute the workflows declare is registered wherever a server is set up
that cannot read them from the code (compose.yml's dev server lists them as flags)."""

from __future__ import annotations

from pathlib import Path

import yaml

from workflows.names import SEARCH_ATTRIBUTES

ROOT = Path(__file__).parents[2]


def declared() -> set[str]:
    return {
        f"{key.name}={key.indexed_value_type.name.title().replace('_', '')}"
        for key in SEARCH_ATTRIBUTES
    }


def test_compose_registers_every_declared_search_attribute() -> None:
    compose = yaml.safe_load((ROOT / "compose.yml").read_text())
    flags = compose["services"]["temporal"]["command"]
    prefix = "--search-attribute="
    assert {f.removeprefix(prefix) for f in flags if f.startswith(prefix)} == declared()
