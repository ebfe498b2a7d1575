"""Start the service and the Celery worker as a user does: as separate processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
ORDERS = str(BIN / "orders")


class Process:
    """A child process whose combined output goes to a log file the test can read."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        log = self.log_path.open("ab")
        # Run from the log folder: a developer's .env in the checkout must not leak in.
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.log_path.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole process group: nothing gets to clean up."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM the whole process group, without waiting (`stop` waits)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)

    def stop(self, timeout: float = 20) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not stop in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode


def wait_http_ok(url: str, deadline_s: float = 30, proc: Process | None = None) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc and proc.proc and proc.proc.poll() is not None:
            raise RuntimeError(f"{proc.name} exited early:\n{proc.output()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    tail = proc.output()[-4000:] if proc else ""
    raise TimeoutError(f"{url} did not answer 200 within {deadline_s}s\n{tail}")


def service(
    env: dict[str, str],
    log_dir: Path,
    roles: str = "api,worker,relay,consumer",
    name: str = "service",
) -> Process:
    return Process(name, [ORDERS, "serve", "--roles", roles], env, log_dir)


def celery_worker(env: dict[str, str], log_dir: Path, name: str = "celery") -> Process:
    return Process(
        name,
        [
            ORDERS,
            "celery",
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env,
        log_dir,
    )
