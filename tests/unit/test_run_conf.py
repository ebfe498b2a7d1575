"""run/supervisord.conf, the processes `make run` supervises: each restarted when it dies,
each line of output under the process's name, the API keeping its CPU while the others
yield it, and Ctrl-C stopping the API first and the dev server last."""

from __future__ import annotations

import configparser
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "run" / "supervisord.conf"
WITH_NAME = ROOT / "run" / "with-name"


def programs() -> dict[str, dict[str, str]]:
    parser = configparser.RawConfigParser()  # supervisord's own %(here)s stays as written
    parser.read(CONF)
    prefix = "program:"
    return {s[len(prefix) :]: dict(parser[s]) for s in parser.sections() if s.startswith(prefix)}


def niceness(program: dict[str, str]) -> int:
    environment = program.get("environment", "")
    found = re.findall(r"\b(?:CPU_NICENESS|TEMPORAL_DEV_NICENESS)=\"(\d+)\"", environment)
    return int(found[0]) if found else 0


def test_the_api_keeps_its_priority_and_the_others_yield() -> None:
    procs = programs()
    assert set(procs) == {"temporal", "api", "pipeline", "celery"}
    assert {name: niceness(p) for name, p in procs.items()} == {
        "temporal": 19,
        "api": 0,
        "pipeline": 19,
        "celery": 19,
    }


def test_the_niceness_is_read_where_it_is_set() -> None:
    assert "TEMPORAL_DEV_NICENESS" in (ROOT / "temporal-dev" / "start.sh").read_text()
    assert "cpu_niceness" in (ROOT / "service/settings/observability.py").read_text()


def test_every_process_is_restarted_whenever_it_dies_and_named_in_the_output() -> None:
    for name, program in programs().items():
        assert program["autorestart"] == "true", name
        assert program["command"].startswith(f"%(here)s/with-name {name} "), name


def test_ctrl_c_stops_the_api_first_and_the_dev_server_last() -> None:
    # supervisord stops programs one at a time, the highest priority first.
    procs = programs()
    order = sorted(procs, key=lambda name: int(procs[name]["priority"]), reverse=True)
    assert order == ["api", "pipeline", "celery", "temporal"]


def test_with_name_prefixes_each_line_and_runs_the_command_in_its_place() -> None:
    # `$$` of the command is the wrapper's pid: the supervisor signals the command itself.
    script = f"""{WITH_NAME} api sh -c 'echo "out $$"; echo err >&2' & echo "pid $!"; wait"""
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    pid = next(line.split()[1] for line in lines if line.startswith("pid "))
    assert sorted(lines) == sorted([f"pid {pid}", f"api      | out {pid}", "api      | err"])
