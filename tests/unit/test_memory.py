"""glibc malloc tuned by service.memory: freed large blocks go back to the system."""

from __future__ import annotations

import subprocess
import sys

import pytest

# A fresh interpreter: hash passwords as the API does (argon2, 19 MiB each), print how
# much the RSS grew and stayed.
SCRIPT = """
import sys
from service.memory import tune_malloc
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
tune_malloc(arena_max=2, mmap_threshold=int(sys.argv[1]))
import argon2
hasher = argon2.PasswordHasher(memory_cost=19 * 1024, time_cost=1, parallelism=1)
before = rss()
for _ in range(4):
    hasher.hash("a password")
print(rss() - before)
"""


def grown_mib(mmap_threshold: int) -> int:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(mmap_threshold)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return int(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_fixed_mmap_threshold_gives_freed_password_hashes_back() -> None:
    assert grown_mib(0) >= 15  # glibc's own habit: the 19 MiB block stays in the heap
    assert grown_mib(1024 * 1024) < 5
