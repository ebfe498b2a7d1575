"""The `run` layout: `make run`'s processes under supervisord with run/supervisord.conf,
as `make run-stack` starts them, on the bench's ports, database and dev server.

supervisord's `temporal` program (`temporal-dev/start.sh --hold`) finds the bench's dev
server answering and only watches it: the server stays the bench's (`temporal` group),
and supervisord with that watcher and its awk is the `supervisor` group, counted in ours.
Each other program is its process (run/with-name execs it) with its awk as its child.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import procs, servers
from bench.servers import ROOT, BenchConfig

SUPERVISORD = servers.ORDERS.parent / "supervisord"
CONF = ROOT / "run" / "supervisord.conf"
PROGRAMS = ("api", "pipeline", "celery")


def program_of(argv: list[str]) -> str:
    """Which of our programs a child of supervisord is, from its argv; else `supervisor`
    (the dev server's watcher)."""
    if "serve" in argv and "--roles" in argv:
        return "api" if argv[argv.index("--roles") + 1] == "api" else "pipeline"
    if "celery" in argv:
        return "celery"
    return "supervisor"


def argv_of(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _groups(supervisord: int, deadline_s: float = 30) -> dict[str, tuple[int, ...]]:
    """The groups, once every program has exec'd its own command (the pipeline's after its
    wait for the dev server)."""
    deadline = time.monotonic() + deadline_s
    while True:
        children = procs.children_map().get(supervisord, [])
        found: dict[str, tuple[int, ...]] = {"supervisor": (supervisord,)}
        for pid in children:
            name = program_of(argv_of(pid))
            found[name] = (*found.get(name, ()), pid)
        if all(name in found for name in PROGRAMS) or time.monotonic() > deadline:
            return {name: found[name] for name in (*PROGRAMS, "supervisor") if name in found}
        time.sleep(0.5)


@contextmanager
def stack(
    config: BenchConfig, environ: dict[str, str]
) -> Iterator[tuple[str, dict[str, tuple[int, ...]]]]:
    """supervisord -n -c run/supervisord.conf; the API's URL and the process groups."""
    state = config.log_dir / "run-state"
    state.mkdir(parents=True, exist_ok=True)
    run_env = {
        **environ,
        "LOG_LEVEL": "INFO",  # make run's
        "HTTP_PORT": str(config.service_port),
        "PIPELINE_HTTP_PORT": str(config.pipeline_port),
        "PIPELINE_OPERATOR_PORT": str(config.operator_port),
        "RUN_STATE_DIR": str(state),
    }
    argv = [SUPERVISORD.as_posix(), "-n", "-c", CONF.as_posix()]
    url = config.url(config.service_port)
    log = config.log_dir / "stack-run.log"
    with servers.running("stack-run", argv, run_env, config.log_dir, url) as process:
        servers.wait_healthy(config.url(config.pipeline_port), process, log)
        yield url, _groups(process.pid)
