"""Dependency floors that exclude releases with published security advisories."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

# For each advisory named beside a floor in pyproject.toml, the newest release it affects.
AFFECTED = {
    "aiohttp": ("3.13.3", "3.13.5", "3.14.0", "3.14.1", "3.14.2"),
    "asyncpg": ("0.20.1",),
    "pyjwt": ("2.3.0", "2.10.0", "2.10.1", "2.11.0", "2.12.1"),
    "redis": ("4.5.3", "7.3.1"),
    "pydantic": ("2.3.0",),
    "pydantic-settings": ("2.14.1",),
    "orjson": ("3.9.14", "3.11.5"),
    "uvloop": ("0.19.0",),
    "temporalio": ("1.23.0", "1.24.0"),
    "celery": ("5.2.1",),
    "pytest": ("9.0.2",),
    "python-dotenv": ("1.2.1",),
    "check-jsonschema": ("0.29.4",),
    "pyyaml": ("5.3.1",),
    "supervisor": ("4.0.2",),
    "uv": ("0.9.4", "0.11.14"),
    "setuptools": ("78.1.0", "80.10.1", "82.0.1"),
}


def _requirements(*lists: list[str]) -> dict[str, Requirement]:
    return {canonicalize_name(r.name): r for r in map(Requirement, (x for y in lists for x in y))}


PROJECT = PYPROJECT["project"]
REQUIREMENTS = _requirements(
    PROJECT["dependencies"],
    PROJECT["optional-dependencies"]["dev"],
    PYPROJECT["build-system"]["requires"],
)


@pytest.mark.parametrize("name", sorted(AFFECTED))
def test_the_floor_excludes_every_release_with_an_advisory(name: str) -> None:
    spec = REQUIREMENTS[name].specifier
    for affected in AFFECTED[name]:
        assert affected not in spec, f"{name} {spec} admits {affected}"
    assert spec.contains(version(name), prereleases=True), "the venv is not the lock's"


def test_the_locked_build_backend_is_the_one_pyproject_builds_with() -> None:
    build = _requirements(PYPROJECT["dependency-groups"]["build"])
    assert build == _requirements(PYPROJECT["build-system"]["requires"])
