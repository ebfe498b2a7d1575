"""The Procfile `make run` starts: the API keeps its CPU, everything else yields it."""

from __future__ import annotations

import re
from pathlib import Path

PROCFILE = Path(__file__).resolve().parents[2] / "Procfile"


def processes() -> dict[str, str]:
    lines = PROCFILE.read_text().splitlines()
    entries = (line.split(":", 1) for line in lines if line and not line.startswith("#"))
    return {name.strip(): command.strip() for name, command in entries}


def niceness(command: str) -> int:
    found = re.findall(r"\b(?:CPU_NICENESS|TEMPORAL_DEV_NICENESS)=(\d+) exec ", command)
    return int(found[0]) if found else 0


def test_the_api_keeps_its_priority_and_the_others_yield() -> None:
    procs = processes()
    assert set(procs) == {"temporal", "api", "pipeline", "celery"}
    assert niceness(procs["api"]) == 0
    assert {name: niceness(procs[name]) for name in ("temporal", "pipeline", "celery")} == {
        "temporal": 10,
        "pipeline": 10,
        "celery": 10,
    }


def test_the_niceness_is_read_where_it_is_set() -> None:
    # `VAR=value exec cmd`: the variable reaches the command (and only it).
    assert "TEMPORAL_DEV_NICENESS" in (PROCFILE.parent / "temporal-dev" / "start.sh").read_text()
    assert "cpu_niceness" in (PROCFILE.parent / "service/settings/observability.py").read_text()
