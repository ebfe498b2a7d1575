"""Every port the project listens on or connects to by default is named in docs/operations.md's
Ports table with the variable that moves it, and every URL `make run` prints is in the
README's table of what runs where. Read from the code (the settings' defaults, the
Makefile, run/supervisord.conf, temporal-dev/start.sh, the benchmark's servers), not from
the docs: a port added there and not documented fails here (issue 16: the pipeline's port
was on no page an operator reads)."""

from __future__ import annotations

import re

import pytest

from service.settings import Settings
from service.settings.operator import OPERATOR_PORT_OFFSET
from tests.support.doc_commands import ROOT

SHELL_DEFAULT = re.compile(r"\$\{([A-Z_]+_PORT):-(\d+)\}")  # ${PIPELINE_HTTP_PORT:-8001}
BENCH_DEFAULT = re.compile(r'env\("([A-Z_]+_PORT)", "(\d+)"\)')  # env("BENCH_..._PORT", "1")


def ports_table() -> list[tuple[set[int], str]]:
    """The rows of docs/operations.md's Ports table: the ports of the first cell, the row."""
    text = (ROOT / "docs/operations.md").read_text()
    section = text.split("\n## Ports\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][2:]
    return [({int(p) for p in re.findall(r"\d+", row.split("|")[1])}, row) for row in rows]


def defaults() -> list[tuple[str, int]]:
    """(the variable that moves it, the port) for each default port in the code."""
    found = []
    settings = Settings.model_fields
    for name, field in settings.items():
        if name.endswith("_port") and isinstance(field.default, int):
            found.append((name.upper(), field.default))
    http_port = settings["http_port"].default
    found.append(("OPERATOR_PORT", http_port + OPERATOR_PORT_OFFSET))
    found.append(("TEMPORAL_ADDRESS", int(settings["temporal_address"].default.rsplit(":")[1])))
    for path in ("Makefile", "run/supervisord.conf", "temporal-dev/start.sh"):
        found += [(n, int(p)) for n, p in SHELL_DEFAULT.findall((ROOT / path).read_text())]
    bench = (ROOT / "bench/servers.py").read_text()
    found += [(n, int(p)) for n, p in BENCH_DEFAULT.findall(bench)]
    return sorted(set(found))


@pytest.mark.parametrize(("variable", "port"), defaults(), ids=lambda v: str(v))
def test_each_default_port_is_in_the_ports_table_with_its_variable(
    variable: str, port: int
) -> None:
    rows = [row for ports, row in ports_table() if port in ports]
    assert rows, f"port {port} ({variable}) is not in docs/operations.md's Ports table"
    named = [row for row in rows if variable in row or _family(variable) in row]
    assert named, f"{variable} not named beside {port}: {rows}"


def _family(variable: str) -> str:
    """`REDIS_PORT` is named by `REDIS_*`."""
    return variable.split("_", 1)[0] + "_*"


def test_the_ports_found_are_those_of_make_run_and_more() -> None:
    assert {port for _, port in defaults()} >= {8000, 8001, 9000, 9001, 9101, 7233, 8233}


def test_every_url_make_run_prints_is_in_the_readme() -> None:
    makefile = (ROOT / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    printed = {int(p) for _, p in SHELL_DEFAULT.findall(run)}
    printed |= {8000, 8000 + OPERATOR_PORT_OFFSET}  # $$port and $$operator: the settings'
    readme = (ROOT / "README.md").read_text()
    table = readme.split("| what | where |", 1)[1].split("\n\n", 1)[0]
    assert {port for port in printed if f":{port}" not in table} == set()
