"""A command run as a person runs it at a terminal: on a pseudo-terminal that is its
controlling terminal (what getpass prompts on), answering each prompt in turn."""

from __future__ import annotations

import os
import select
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Session:
    returncode: int
    output: str  # what the terminal showed: prompts, output and errors, in order


def run_at_terminal(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    answers: list[str],
    prompt: bytes = b": ",
    timeout: float = 60.0,
) -> Session:
    """Run `argv` in a session of its own whose controlling terminal is a new pty (util-linux
    `setsid --ctty`); each time the output ends with `prompt`, type the next answer."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        ["setsid", "--ctty", *argv], stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd
    )
    os.close(slave)
    shown, answered_at, pending = b"", 0, list(answers)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every holder of the terminal's other end is gone
                break
            if not chunk:
                break
            shown += chunk
            if pending and shown[answered_at:].rstrip(b" ").endswith(prompt.rstrip(b" ")):
                os.write(master, pending.pop(0).encode() + b"\n")
                answered_at = len(shown)
        else:
            proc.kill()
            raise TimeoutError(f"{argv} did not end within {timeout}s:\n{shown.decode()}")
        return Session(proc.wait(timeout=10), shown.decode(errors="replace"))
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
