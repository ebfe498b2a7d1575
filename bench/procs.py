"""What our processes cost, read from /proc: CPU time and memory, per named group.

A group is a name and the root pids of process trees ("celery": the worker's parent, its
prefork children come with it). CPU is utime + stime of every process in the trees, plus
cutime + cstime (children that exited and were reaped count too), so a delta over a
window is the CPU the group spent in it, every thread included (the Temporal SDK's Rust
threads as much as the Python one). Memory is VmRSS (what the issue's targets use) and
Pss from smaps_rollup (shared pages split between the processes sharing them: the honest
sum for prefork children).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")
MIB = 1024.0


def _stat(pid: int, task: int | None = None) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (field 3, the state, first)."""
    path = (
        PROC / str(pid) / "stat" if task is None else PROC / str(pid) / "task" / str(task) / "stat"
    )
    text = path.read_text()
    return text[text.rindex(")") + 2 :].split()


def children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int(_stat(int(entry.name))[1])
        except (OSError, ValueError, IndexError):
            continue  # exited while we looked
        children[ppid].append(int(entry.name))
    return children


def tree(
    root: int, children: Mapping[int, list[int]] | None = None, apart: Collection[int] = ()
) -> list[int]:
    """`root` and its descendants, root first; those under a pid in `apart` (another
    group's root: a supervisor's programs) are left to that group."""
    children = children_map() if children is None else children
    found, todo = [], [root]
    while todo:
        pid = todo.pop(0)
        found.append(pid)
        todo.extend(sorted(c for c in children.get(pid, ()) if c not in apart))
    return found


def members(groups: Groups, children: Mapping[int, list[int]]) -> dict[str, list[int]]:
    """Each group's processes: its roots and their descendants, each process in one group."""
    roots = {pid for pids in groups.values() for pid in pids}
    return {
        name: [pid for root in pids for pid in tree(root, children, roots - {root})]
        for name, pids in groups.items()
    }


def cpu_seconds(pid: int) -> float:
    """utime + stime + cutime + cstime of `pid`, in seconds (0 when it is gone)."""
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


def comm(pid: int, task: int | None = None) -> str:
    path = (
        PROC / str(pid) / "comm" if task is None else PROC / str(pid) / "task" / str(task) / "comm"
    )
    try:
        return path.read_text().strip()
    except OSError:
        return "?"


Groups = Mapping[str, tuple[int, ...]]


def named(command: str) -> tuple[int, ...]:
    """The roots of the trees of processes named `command` (PostgreSQL's postmaster, whose
    tree holds every session's backend: a server the bench did not start)."""
    pids = {
        int(e.name) for e in PROC.iterdir() if e.name.isdigit() and comm(int(e.name)) == command
    }
    roots = []
    for pid in pids:
        try:
            if int(_stat(pid)[1]) not in pids:
                roots.append(pid)
        except (OSError, ValueError, IndexError):
            continue  # exited while we looked
    return tuple(sorted(roots))


def machine_cpu() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot, every core (/proc/stat)."""
    fields = [int(x) for x in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / TICKS, idle / TICKS


@dataclass(frozen=True)
class CpuSnapshot:
    per_pid: dict[str, dict[int, float]]  # group -> pid -> CPU seconds
    threads: dict[str, dict[tuple[int, int], tuple[str, float]]]  # group -> (pid, tid) -> ...


def _threads(pids: list[int]) -> dict[tuple[int, int], tuple[str, float]]:
    """(name, CPU seconds) of every live thread of the processes `pids`."""
    found: dict[tuple[int, int], tuple[str, float]] = {}
    for pid in pids:
        try:
            tasks = [int(t.name) for t in (PROC / str(pid) / "task").iterdir()]
        except OSError:
            continue
        for tid in tasks:
            try:
                fields = _stat(pid, tid)
            except OSError:
                continue
            found[pid, tid] = (comm(pid, tid), (int(fields[11]) + int(fields[12])) / TICKS)
    return found


def cpu_snapshot(groups: Groups) -> CpuSnapshot:
    children = children_map()
    per_pid: dict[str, dict[int, float]] = {}
    threads: dict[str, dict[tuple[int, int], tuple[str, float]]] = {}
    for name, pids in members(groups, children).items():
        per_pid[name] = {pid: cpu_seconds(pid) for pid in pids}
        threads[name] = _threads(pids)
    return CpuSnapshot(per_pid, threads)


@dataclass(frozen=True)
class CpuUsage:
    seconds: dict[str, float]  # group -> CPU seconds spent in the window
    threads: dict[str, dict[str, float]]  # group -> thread name -> CPU seconds (live threads)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def cpu_used(before: CpuSnapshot, after: CpuSnapshot) -> CpuUsage:
    seconds = {
        name: sum(t - before.per_pid.get(name, {}).get(pid, 0.0) for pid, t in pids.items())
        for name, pids in after.per_pid.items()
    }
    threads: dict[str, dict[str, float]] = {}
    for name, tasks in after.threads.items():
        by_name: dict[str, float] = defaultdict(float)
        for key, (thread, t) in tasks.items():
            by_name[thread] += t - before.threads.get(name, {}).get(key, (thread, 0.0))[1]
        threads[name] = dict(by_name)
    return CpuUsage(seconds, threads)


@dataclass(frozen=True, slots=True)
class Memory:
    group: str
    pid: int
    name: str
    rss_mib: float
    pss_mib: float


def _kib(path: Path, key: str) -> float:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def memory(groups: Groups) -> list[Memory]:
    """VmRSS and Pss of every process of every group, in MiB."""
    children = children_map()
    rows = []
    for name, pids in members(groups, children).items():
        for pid in pids:
            rss = _kib(PROC / str(pid) / "status", "VmRSS") / MIB
            pss = _kib(PROC / str(pid) / "smaps_rollup", "Pss") / MIB
            rows.append(Memory(name, pid, comm(pid), rss, pss))
    return rows
