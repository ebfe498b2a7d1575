"""`make reset` runs `orders reset` with the dev server's data folder (TEMPORAL_DEV_DATA,
exported or from .env, else temporal-dev/data), without `--yes` unless RESET=yes; and not at
all while `make run` runs in the checkout. A copy of the Makefile, with a stand-in `orders`
that says how it was called (tests/integration/test_reset.py runs the real one)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path)
    for name in ("pyproject.toml", "requirements-dev.txt"):  # what the venv is made from
        (tmp_path / name).touch()
        os.utime(tmp_path / name, (0, 0))  # older than the venv: nothing to install
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (tmp_path / ".venv" / ".installed").touch()
    (bin_dir / "dotenv").symlink_to(Path(sys.executable).parent / "dotenv")
    orders = bin_dir / "orders"
    orders.write_text('#!/bin/sh\necho "orders $*"\n')
    orders.chmod(0o755)
    (tmp_path / ".env").write_text("")
    return tmp_path


def make_reset(checkout: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-s", "reset", *args],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", **env},
    )


def test_it_asks_unless_told_yes(checkout: Path) -> None:
    assert make_reset(checkout).stdout == "orders reset --temporal-data temporal-dev/data\n"
    told = make_reset(checkout, "RESET=yes").stdout
    assert told == "orders reset --temporal-data temporal-dev/data --yes\n"


def test_the_dev_servers_folder_is_the_one_make_run_uses(checkout: Path) -> None:
    (checkout / ".env").write_text("TEMPORAL_DEV_DATA=/from/dotenv\n")
    from_dotenv = make_reset(checkout).stdout
    assert from_dotenv == "orders reset --temporal-data /from/dotenv\n"
    exported = make_reset(checkout, TEMPORAL_DEV_DATA="/exported").stdout
    assert exported == "orders reset --temporal-data /exported\n"


@pytest.fixture
def running_supervisord(checkout: Path) -> Iterator[Path]:
    """A pid file naming a live process that looks like `make run`'s supervisord."""
    fake = subprocess.Popen(["bash", "-c", "exec -a supervisord sleep 60"])
    state = checkout / "run-state"
    state.mkdir()
    (state / "supervisord.pid").write_text(f"{fake.pid}\n")
    try:
        yield state
    finally:
        fake.kill()
        fake.wait()


def test_refused_while_make_run_runs_here(checkout: Path, running_supervisord: Path) -> None:
    refused = make_reset(checkout, "RESET=yes", RUN_STATE_DIR=str(running_supervisord))
    assert refused.returncode != 0
    assert "make run is already running in this checkout" in refused.stdout
    assert "orders reset" not in refused.stdout
