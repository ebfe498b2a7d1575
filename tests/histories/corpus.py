"""The replay corpus: which folders of recorded histories the code must still replay.

Each version of the workflows has its folder, `v<N>/`. The code replays every folder from
`OLDEST_REPLAYED_VERSION` (workflows/names.py) to `WORKFLOW_VERSION`; the older ones are
retired: `python -m tests.histories.record --retire` deletes them (git keeps them), and the
replay test holds the folders to exactly the versions kept, so none is kept by mistake or
dropped by accident. docs/operations.md "Retiring old code" says when a version retires.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from workflows.names import OLDEST_REPLAYED_VERSION, WORKFLOW_VERSION

HERE = Path(__file__).parent
log = logging.getLogger("record")


def folder(version: int = WORKFLOW_VERSION) -> Path:
    return HERE / f"v{version}"


def kept_versions() -> range:
    """The versions whose histories the code replays."""
    return range(OLDEST_REPLAYED_VERSION, WORKFLOW_VERSION + 1)


def histories() -> list[Path]:
    """Every history the code must replay: the kept versions' folders."""
    return sorted(p for v in kept_versions() for p in folder(v).glob("*.json"))


def retire() -> list[Path]:
    """Delete the folders of versions below OLDEST_REPLAYED_VERSION (git keeps them)."""
    retired = [
        p
        for p in HERE.glob("v*")
        if p.is_dir() and p.name[1:].isdigit() and int(p.name[1:]) < OLDEST_REPLAYED_VERSION
    ]
    for path in retired:
        shutil.rmtree(path)
        log.info("retired %s", path)
    return retired
