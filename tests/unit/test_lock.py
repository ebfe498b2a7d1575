"""The lock (uv.lock and its export, requirements*.txt): one release per family, and a
wheel of every locked package for each CPython we support, so pip never resolves or builds.
`make lock-check` (CI) proves the files agree with pyproject.toml and with one another."""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import parse_wheel_filename
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ("requirements.txt", "requirements-dev.txt")
SOURCES = ("uv.lock", *EXPORTS)

# The contrib instrumentations this project uses, released together with the instrumentation
# base, util-http and semantic-conventions as 0.<N>b<P>; each pins the others to its own release.
INSTRUMENTATIONS = {
    "opentelemetry-instrumentation",
    "opentelemetry-instrumentation-aio-pika",
    "opentelemetry-instrumentation-aiohttp-server",
    "opentelemetry-instrumentation-asyncpg",
    "opentelemetry-instrumentation-celery",
    "opentelemetry-util-http",
    "opentelemetry-semantic-conventions",
}

# One pin of an exported file: `name==version [; marker] \`, its hashes on the lines below.
_PIN = re.compile(r"^(?P<name>[a-z0-9][a-z0-9._-]*)==(?P<version>\S+)(?: ; (?P<marker>.+))? \\$")


@cache
def _lock() -> dict[str, dict[str, list[str]]]:
    """uv.lock: name -> version -> the file names of its wheels."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for package in lock["package"]:
        wheels = [wheel["url"].rsplit("/", 1)[1] for wheel in package.get("wheels", [])]
        packages[package["name"]][package["version"]] = wheels
    return dict(packages)


@cache
def _pins(export: str) -> list[tuple[str, str, Marker | None]]:
    pins = []
    for line in (ROOT / export).read_text().splitlines():
        if match := _PIN.match(line):
            marker = Marker(match["marker"]) if match["marker"] else None
            pins.append((match["name"], match["version"], marker))
    assert pins, f"{export} pins nothing"
    return pins


def _versions(source: str) -> dict[str, set[str]]:
    """Every release of every package that one of the lock's files holds."""
    if source == "uv.lock":
        return {name: set(releases) for name, releases in _lock().items()}
    versions: dict[str, set[str]] = defaultdict(set)
    for name, version, _ in _pins(source):
        versions[name].add(version)
    return versions


def _opentelemetry(source: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """The contrib line (0.<N>b<P>: instrumentations and what ships with them) and the
    SDK line (1.<M>.<P>: api, sdk, exporters, proto) of a file."""
    packages = {n: v for n, v in _versions(source).items() if n.startswith("opentelemetry-")}
    contrib = {n: v for n, v in packages.items() if all(Version(x).major == 0 for x in v)}
    return contrib, {n: v for n, v in packages.items() if n not in contrib}


@pytest.mark.parametrize("source", SOURCES)
def test_the_instrumentations_are_held_to_one_release(source: str) -> None:
    contrib, _ = _opentelemetry(source)
    assert contrib.keys() >= INSTRUMENTATIONS, INSTRUMENTATIONS - contrib.keys()
    releases = {version for versions in contrib.values() for version in versions}
    assert len(releases) == 1, f"{source} mixes contrib releases: {sorted(contrib.items())}"


@pytest.mark.parametrize("source", SOURCES)
def test_the_sdk_is_the_release_the_instrumentations_pin(source: str) -> None:
    contrib, core = _opentelemetry(source)
    assert {"opentelemetry-api", "opentelemetry-sdk"} <= core.keys()
    releases = {Version(version) for versions in core.values() for version in versions}
    assert len(releases) == 1, f"{source} mixes SDK releases: {sorted(core.items())}"
    [sdk] = releases
    [instrumentations] = {Version(v) for versions in contrib.values() for v in versions}
    # SDK 1.<M>.<P> pins opentelemetry-semantic-conventions==0.<M + 21>b<P>, and so does every
    # instrumentation of that release (0.66b1 with 1.45.1).
    assert instrumentations == Version(f"0.{sdk.minor + 21}b{sdk.micro}"), (sdk, instrumentations)


def _environment(python: tuple[int, int], machine: str) -> dict[str, str]:
    version = ".".join(map(str, python))
    return {
        "python_version": version,
        "python_full_version": f"{version}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": machine,
    }


def _tags(python: tuple[int, int], machine: str) -> set[Tag]:
    # A glibc of 2.36 (Debian 12) or newer: manylinux_2_5 to _2_36 and their older aliases.
    platforms = [f"manylinux_2_{glibc}_{machine}" for glibc in range(36, 4, -1)]
    platforms += [f"manylinux{alias}_{machine}" for alias in ("2014", "2010", "1")]
    interpreter = f"cp{python[0]}{python[1]}"
    return {
        *cpython_tags(python, platforms=platforms),
        *compatible_tags(python, interpreter, platforms),
    }


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
@pytest.mark.parametrize("python", [(3, 11), (3, 12), (3, 13)], ids=lambda v: f"{v[0]}.{v[1]}")
@pytest.mark.parametrize("export", EXPORTS)
def test_every_pin_installs_from_a_wheel(
    export: str, python: tuple[int, int], machine: str
) -> None:
    environment = _environment(python, machine)
    tags = _tags(python, machine)
    missing = []
    for name, version, marker in _pins(export):
        if marker is not None and not marker.evaluate(environment):
            continue
        wheels = _lock().get(name, {}).get(version, [])
        if not any(tags & parse_wheel_filename(wheel)[3] for wheel in wheels):
            missing.append(f"{name}=={version}")
    assert not missing, f"no wheel for CPython {python} on {machine}: {missing}"
