"""bench.procs: the CPU the bench attributes to processes it did not start (PostgreSQL)
and to the whole machine, so a phase's CPU adds up to its cores."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench import procs


def test_named_gives_the_root_of_a_tree_of_same_named_processes() -> None:
    # A child with this process's command name: the tree's root is found once, the
    # child through it (counting both would count the child twice).
    name = procs.comm(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)"])
    try:
        roots = procs.named(name)
        assert os.getpid() in roots or any(os.getpid() in procs.tree(r) for r in roots)
        if procs.comm(child.pid) == name:
            assert child.pid not in roots
    finally:
        child.kill()
        child.wait()


def test_machine_cpu_counts_busy_and_idle_time_of_every_core() -> None:
    busy_before, idle_before = procs.machine_cpu()
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:  # keep one core busy
        pass
    busy, idle = procs.machine_cpu()
    assert busy - busy_before >= 0.2  # this loop's own CPU, at least
    elapsed_all_cores = (busy - busy_before) + (idle - idle_before)
    assert elapsed_all_cores <= 0.3 * (os.cpu_count() or 1) + 0.5
