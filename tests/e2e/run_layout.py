"""`make run`'s layout, started as `make run` starts it (`make run-stack`) with a stack's
names, a throwaway database and a Temporal dev server of its own (free port, own data
folder); its processes found under make by what they run."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Sequence
from pathlib import Path

from tests.support.faults import free_port
from tests.support.processes import Process, wait_http_ok
from tests.support.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ("temporal", "api", "pipeline", "celery")


def program_of(argv: Sequence[str]) -> str | None:
    """Which program of the layout a process is, from its argv (None: a helper of one)."""
    if argv[1:3] == ["server", "start-dev"]:
        return "temporal"
    if "serve" in argv and "--roles" in argv:
        roles = argv[argv.index("--roles") + 1]
        return {"api": "api", "worker,relay,consumer": "pipeline"}.get(roles)
    if "celery" in argv[1:4] and "--concurrency" in argv:  # `orders celery`, re-executed
        return "celery"
    return None


def descendants(root: int) -> dict[int, list[str]]:
    """Every live process under `root`, pid -> argv, from /proc."""
    children: dict[int, list[int]] = {}
    argvs: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:  # gone meanwhile
            continue
        argv = argv_of(pid)
        if argv is not None:
            children.setdefault(ppid, []).append(pid)
            argvs[pid] = argv
    found: dict[int, list[str]] = {}
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = argvs[child]
            todo.append(child)
    return found


class RunLayout:
    """`make run-stack` for a stack: every process of `make run`, under its supervisor."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.pipeline_port = free_port()
        self.temporal_address = f"127.0.0.1:{free_port()}"
        stack.overrides.update(
            {
                "TEMPORAL_ADDRESS": self.temporal_address,
                "TEMPORAL_DEV_DATA": str(stack.tmp / "temporal-data"),
                "TEMPORAL_DEV_HEADLESS": "1",
                "PIPELINE_HTTP_PORT": str(self.pipeline_port),
                "RUN_STATE_DIR": str(stack.tmp / "run-state"),
            }
        )
        self.proc: Process | None = None

    def make(self, name: str = "make-run") -> Process:
        """`make run-stack` with the stack's environment (not started)."""
        dotenv = self.stack.tmp / "empty.env"  # everything comes from the environment
        dotenv.touch()
        argv = ["make", "-s", "-C", str(ROOT), "run-stack", f"ENV_FILE={dotenv}"]
        return Process(name, argv, self.stack.env(), self.stack.tmp)

    def start(self) -> Process:
        self.proc = self.make().start()
        return self.proc

    def stop(self) -> None:
        if self.proc is not None:
            stop_tree(self.proc)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        assert self.proc.proc is not None
        return self.proc.proc.pid

    def pids(self) -> dict[str, int]:
        """The pid of each program running now (a program down or restarting is missing)."""
        found: dict[str, int] = {}
        for pid, argv in descendants(self.pid).items():
            name = program_of(argv)
            if name is not None:
                found[name] = pid
        return found

    def wait_serving(self, deadline_s: float = 120) -> None:
        """Until the API and the pipeline answer /health (the pipeline waits for Temporal)."""
        wait_http_ok(f"{self.stack.base_url}/health", deadline_s=deadline_s, proc=self.proc)
        pipeline = f"http://127.0.0.1:{self.pipeline_port}/health"
        wait_http_ok(pipeline, deadline_s=deadline_s, proc=self.proc)

    def interrupt(self) -> None:
        """Ctrl-C in the terminal: SIGINT to the foreground process group (make's)."""
        os.killpg(self.pid, signal.SIGINT)


def stop_tree(proc: Process) -> None:
    """SIGTERM to make (as `kill` would), then SIGKILL whatever it started that is left:
    the supervised processes run in process groups of their own."""
    if proc.proc is None:
        return
    left = descendants(proc.proc.pid)
    proc.stop()
    for pid, argv in left.items():
        if argv_of(pid) == argv:  # still that process, not a new one with its pid
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def argv_of(pid: int) -> list[str] | None:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return cmdline.decode(errors="replace").split("\0")[:-1] or None  # [] for a zombie
