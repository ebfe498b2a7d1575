"""`--profile`: where a service process spends its CPU during the end-to-end burst.

py-spy (PyPI `py-spy`; `make bench` does not install it: `.venv/bin/pip install py-spy`)
samples each service process 100 times a second, keeping the samples of the thread that
holds the GIL (`--gil`: Python's CPU, not threads waiting) with their native frames
(`--native`: uvloop's, asyncpg's and the Temporal bridge's C and Rust code show by name),
into `.run/bench/profile-<process>.txt` (collapsed stacks: one line per stack, the frames
separated by `;`, then the sample count; flamegraph.pl and speedscope read it). Sampling
pauses the process for a moment each time, so a profiled run is a little slower. The run
prints the functions with the most samples on their own (self), and with what they call
(inclusive; the entry frames every sample shares left out). Threads that never hold the
GIL (the Temporal SDK's Rust core) are not here: the per-thread CPU from /proc shows them.
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
ENTRY_SHARE = 0.5  # frames in more samples than this are the way in (main, run_app)
SKIP_GROUPS = {"celery", "temporal"}


def _py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


@contextmanager
def recording(
    enabled: bool, groups: procs.Groups, out_dir: Path, phase: str = ""
) -> Iterator[None]:
    """Sample every service process (not Celery, not Temporal) for the block; `phase` names
    the files of a block other than the burst (`profile-<process>-<phase>.txt`)."""
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
            out = out_dir / f"profile-{group}{'-' + phase if phase else ''}.txt"
            argv = [spy, "record", "--pid", str(pid), "--format", "raw", "--output", str(out)]
            argv += ["--rate", "100", "--gil", "--native"]
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


# Where a sample's time goes: the first of these met from the innermost frame outwards
# (a sample in asyncpg called from our store counts for asyncpg; one in the standard
# library called from our code counts for ours).
AREAS = (
    ("Temporal workflow sandbox", ("temporalio/worker/workflow_sandbox/",)),
    ("Temporal SDK (other)", ("temporalio/",)),
    ("aiohttp", ("aiohttp/", "multidict/", "yarl/")),
    ("asyncpg", ("asyncpg/",)),
    ("redis", ("redis/",)),
    ("aio-pika", ("aio_pika/", "aiormq/", "pamqp/")),
    ("Celery, kombu", ("celery/", "kombu/")),
    ("pydantic", ("pydantic/", "pydantic_core/")),
    ("prometheus", ("prometheus_client/",)),
    ("logging", ("logging/",)),
    (
        "our code",
        tuple(
            f"({p}/"
            for p in (
                "api", "core", "store", "usecases", "relay", "workflows", "activities",
                "messaging", "processing", "service",
            )
        ),
    ),
)  # fmt: skip


def area(frames: list[str], entry: set[str]) -> str:
    for frame in reversed(frames):
        if frame in entry:
            continue
        for name, marks in AREAS:
            if any(mark in frame for mark in marks):
                return name
    return "event loop, gc, interpreter"


def _stacks(path: Path) -> list[tuple[list[str], int]]:
    found = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            found.append((stack.split(";"), int(count)))
    return found


def _frames(path: Path) -> tuple[Counter[str], Counter[str], Counter[str], int]:
    """Samples per frame on its own, per frame inclusive, per area; and in total."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    stacks = _stacks(path)
    total = sum(n for _, n in stacks)
    for frames, n in stacks:
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    entry = {f for f, n in inclusive.items() if n >= total * ENTRY_SHARE}
    areas: Counter[str] = Counter()
    for frames, n in stacks:
        areas[area(frames, entry)] += n
    return own, inclusive, areas, total


def summarize(group: str, path: Path) -> None:
    own, inclusive, areas, total = _frames(path)
    if not total:
        print(f"\nprofile of {group}: no samples")
        return
    print(f"\nprofile of {group}: {total} samples of busy Python threads ({path})")
    print("  by area (the innermost frame of a known library or of ours):")
    for name, n in areas.most_common():
        print(f"    {n / total:>6.1%}  {name}")
    print("  most samples on their own (self):")
    for frame, n in own.most_common(TOP):
        print(f"    {n / total:>6.1%}  {frame}")
    print("  most samples with what they call (inclusive, frames under half the samples):")
    shown = [(f, n) for f, n in inclusive.most_common() if n < total * ENTRY_SHARE][:TOP]
    for frame, n in shown:
        print(f"    {n / total:>6.1%}  {frame}")
