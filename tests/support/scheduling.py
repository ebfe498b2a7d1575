"""How `make test` shares the suite between its workers (pytest-xdist, `--dist loadfile`):
a module is one unit of work, its tests run one after another on one worker, as they were
written to; and the modules marked `slow` (their `pytestmark`), which start many processes
and time what they do under faults, are one unit together: one worker runs them in turn,
so no two of them share the machine. The slow unit goes out first (it is the longest: the
workers put the slow tests first in their collection, tests/conftest.py); the other worker
takes the rest, module by module.

xdist's own `--dist loadgroup` groups by a suffix it puts on each test's node id, which
pytest 9.2 no longer reads back: its groups came apart."""

from __future__ import annotations

import functools
import importlib
from pathlib import PurePosixPath
from typing import Any

import pytest
from xdist.scheduler import LoadFileScheduling

SLOW = "slow"  # the unit of the slow modules


@functools.cache
def is_slow_module(path: str) -> bool:
    """Whether the module at `path` (relative to the root: tests/e2e/test_faults.py) is
    marked `slow` as a whole."""
    module = importlib.import_module(".".join(PurePosixPath(path).with_suffix("").parts))
    marks: Any = getattr(module, "pytestmark", [])
    marks = marks if isinstance(marks, list) else [marks]
    return any(isinstance(m, pytest.MarkDecorator | pytest.Mark) and m.name == SLOW for m in marks)


def unit_of(nodeid: str) -> str:
    """The unit of work a test belongs to: `slow`, or its module."""
    module = nodeid.split("::", 1)[0]
    return SLOW if module.endswith(".py") and is_slow_module(module) else module


class SlowTogether(LoadFileScheduling):  # type: ignore[misc]  # xdist has no types
    """xdist's load-by-file scheduling, the slow modules one unit. The units go out in the
    order of the collection (with --no-loadscope-reorder, not by their number of tests)."""

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)
