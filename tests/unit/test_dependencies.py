"""Dependency floors that exclude releases with published security advisories."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _requirement(name: str) -> Requirement:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    [found] = [Requirement(r) for r in project["dependencies"] if Requirement(r).name == name]
    return found


def test_pyjwt_excludes_every_release_with_an_advisory() -> None:
    spec = _requirement("pyjwt").specifier
    for vulnerable in ("2.3.0", "2.10.0", "2.10.1", "2.11.0", "2.12.1"):
        assert vulnerable not in spec, vulnerable
    assert version("pyjwt") in spec
