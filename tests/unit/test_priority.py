"""service.priority: a background process yields the CPU to the API, whoever started it.

Reproduced with `bench.run --only fullstack --layout split`: while the pipeline drained,
the API got under half a core and POST throughput fell to 0.36-0.41 of the API alone.
`nice` did nothing: the kernel groups processes by session (autogroup) and shares the
CPU between the groups first, and honcho, like the bench, starts every process in a
session of its own. Niced through its autogroup as well, the pipeline let the API have
0.50 of its throughput.

A process that never left init's session (a CI runner's, say) is in the root task group,
which is no autogroup: its /proc/self/autogroup reads empty, and it has no group nice
value to keep. The tests read that as None.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

AUTOGROUP = Path("/proc/self/autogroup")

pytestmark = pytest.mark.skipif(not AUTOGROUP.exists(), reason="no autogroup in this kernel")

# A fresh interpreter yields the CPU, then reports its nice value and its autogroup's.
SCRIPT = """
import os, sys
from pathlib import Path
from service.priority import yield_cpu
yield_cpu(int(sys.argv[1]))
group = Path("/proc/self/autogroup").read_text().split()
print(os.getpriority(os.PRIO_PROCESS, 0), group[-1] if group else "none")
"""


def group_nice(field: str) -> int | None:
    return None if field == "none" else int(field)


def run(niceness: int, *, own_session: bool) -> tuple[int, int | None]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(niceness)],
        capture_output=True,
        text=True,
        check=True,
        start_new_session=own_session,
    ).stdout.split()
    return int(out[0]), group_nice(out[1])


def autogroup_nice() -> int | None:
    group = AUTOGROUP.read_text().split()
    return int(group[-1]) if group else None


def test_a_session_leader_yields_through_its_autogroup_too() -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert run(7, own_session=True) == (max(base, 7), 7)


def test_a_process_sharing_its_session_leaves_the_autogroup_alone() -> None:
    # The autogroup is the whole session's (a terminal, say, with the API in it too).
    before = autogroup_nice()
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert run(7, own_session=False) == (max(base, 7), before)
    assert autogroup_nice() == before


def test_yielding_twice_is_yielding_once() -> None:
    # The Celery worker re-executes itself: its second start must not lower it further.
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.replace("yield_cpu(", "yield_cpu(5); yield_cpu("), "5"],
        capture_output=True,
        text=True,
        check=True,
        start_new_session=True,
    ).stdout.split()
    assert (int(out[0]), group_nice(out[1])) == (max(os.getpriority(os.PRIO_PROCESS, 0), 5), 5)


def test_zero_changes_nothing() -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert run(0, own_session=True) == (base, 0)
