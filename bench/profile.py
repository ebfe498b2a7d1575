"""`--profile`: where a service process spends its CPU during the end-to-end burst.

py-spy (PyPI `py-spy`; `make bench` does not install it: `.venv/bin/pip install py-spy`)
samples each service process's Python threads, idle ones left out, without pausing them
(`--nonblocking`), into `.run/bench/profile-<process>.txt` (collapsed stacks: one line
per stack, the frames separated by `;`, then the sample count; flamegraph.pl and
speedscope read it). The run prints the functions with the most samples, on their own
(self) and with what they call (inclusive). Threads with no Python frame (the Temporal
SDK's Rust core, for one) are not sampled: the per-thread CPU from /proc shows them.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import procs

TOP = 15
SKIP_GROUPS = {"celery", "temporal"}


def _py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


@contextmanager
def recording(enabled: bool, groups: procs.Groups, out_dir: Path) -> Iterator[None]:
    """Sample every service process (not Celery, not Temporal) for the block."""
    spy = _py_spy() if enabled else None
    if enabled and spy is None:
        print("--profile: py-spy not found (.venv/bin/pip install py-spy); no profile")
    if spy is None:
        yield
        return
    recorders = []
    for group, roots in groups.items():
        if group in SKIP_GROUPS:
            continue
        for pid in roots:
            out = out_dir / f"profile-{group}.txt"
            argv = [spy, "record", "--pid", str(pid), "--format", "raw", "--output", str(out)]
            argv += ["--rate", "200", "--nonblocking"]
            process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            recorders.append((group, out, process))
    try:
        yield
    finally:
        for group, out, process in recorders:
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=60)
            if out.exists():
                summarize(group, out)
            else:
                print(f"--profile: py-spy wrote nothing for {group}: {err.decode()[-500:]}")


def _frames(path: Path) -> tuple[Counter[str], Counter[str], int]:
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    return own, inclusive, total


def summarize(group: str, path: Path) -> None:
    own, inclusive, total = _frames(path)
    if not total:
        print(f"\nprofile of {group}: no samples")
        return
    print(f"\nprofile of {group}: {total} samples of busy Python threads ({path})")
    print("  most samples on their own (self):")
    for frame, n in own.most_common(TOP):
        print(f"    {n / total:>6.1%}  {frame}")
    print("  most samples with what they call (inclusive):")
    for frame, n in inclusive.most_common(TOP):
        print(f"    {n / total:>6.1%}  {frame}")
