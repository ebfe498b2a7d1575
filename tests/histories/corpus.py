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


def folder(version: int = WORKFLOW_VERSION, root: Path = HERE) -> Path:
    return root / f"v{version}"


def kept_versions(oldest: int = OLDEST_REPLAYED_VERSION, newest: int = WORKFLOW_VERSION) -> range:
    """The versions whose histories the code replays."""
    return range(oldest, newest + 1)


def histories(
    root: Path = HERE, oldest: int = OLDEST_REPLAYED_VERSION, newest: int = WORKFLOW_VERSION
) -> list[Path]:
    """Every history the code must replay: the kept versions' folders."""
    kept = kept_versions(oldest, newest)
    return sorted(p for v in kept for p in folder(v, root).glob("*.json"))


def retire(root: Path = HERE, oldest: int = OLDEST_REPLAYED_VERSION) -> list[Path]:
    """Delete the folders of versions below `oldest` (git keeps them); the ones deleted."""
    retired = sorted(
        p
        for p in root.glob("v*")
        if p.is_dir() and p.name[1:].isdigit() and int(p.name[1:]) < oldest
    )
    for path in retired:
        shutil.rmtree(path)
        log.info("retired %s", path)
    return retired
