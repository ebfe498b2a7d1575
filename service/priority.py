"""A background process yields the CPU to the API: set once, at start (`CPU_NICENESS`).

`nice` alone is not enough on Linux: with autogroup (the default on desktop and most
server kernels), the scheduler groups processes by session and shares the CPU between the
groups first, nice values only counting within a group. Process runners (systemd, the
bench, honcho which `make run` once used) start each process in a session of its own, so
a niced pipeline still took half the CPU from the API. (supervisord, which `make run`
uses now, keeps its processes in its own session, the terminal's: one group, where nice
counts.) A process that leads its own session therefore also sets its autogroup's nice
value; one that shares its session (started from a terminal, say) leaves the group alone,
since that would slow everything else in it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

AUTOGROUP = Path("/proc/self/autogroup")


def yield_cpu(niceness: int) -> None:
    """Run at nice value `niceness` or lower priority (0 to 19; 0 changes nothing).
    Idempotent: a process that re-executes itself (the Celery worker) ends where it was."""
    if niceness <= 0:
        return
    if os.getpriority(os.PRIO_PROCESS, 0) < niceness:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    if os.getsid(0) != os.getpid() or not AUTOGROUP.exists():
        return
    try:
        AUTOGROUP.write_text(str(niceness))
    except OSError as exc:  # a kernel or sandbox that refuses: the nice value still counts
        log.warning("cannot lower the autogroup's priority, niced only error=%r", exc)
