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
print(os.getpriority(os.PRIO_PROCESS, 0))
print(Path("/proc/self/autogroup").read_text(), end="")
"""


def group_nice(autogroup: str) -> int | None:
    """The nice value in an autogroup file's text ("/autogroup-85 nice 0"); None if empty."""
    fields = autogroup.split()
    return int(fields[-1]) if fields else None


def run(niceness: int, *, own_session: bool, script: str = SCRIPT) -> tuple[int, int | None]:
    out = subprocess.run(
        [sys.executable, "-c", script, str(niceness)],
        capture_output=True,
        text=True,
        check=True,
        start_new_session=own_session,
    ).stdout
    nice, _, autogroup = out.partition("\n")
    return int(nice), group_nice(autogroup)


def autogroup_nice() -> int | None:
    return group_nice(AUTOGROUP.read_text())


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
    twice = SCRIPT.replace("yield_cpu(", "yield_cpu(5); yield_cpu(")
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert run(5, own_session=True, script=twice) == (max(base, 5), 5)


def test_zero_changes_nothing() -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert run(0, own_session=True) == (base, 0)
