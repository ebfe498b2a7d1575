"""glibc malloc, tuned in `main()` before any thread starts, so freed memory goes back.

Two of glibc's habits keep memory a process no longer uses:
- *arenas*: each thread that allocates under contention gets an arena of its own (up to
  eight per core); the Temporal SDK's Rust threads, the Celery pool's threads and the
  executors each touch one, and what is freed stays in it. `M_ARENA_MAX` caps them.
- *the dynamic mmap threshold*: a large block (128 KiB and up) is mmapped and returned
  to the system when freed, but the first such free raises the threshold to the block's
  size, so every later block that size comes from the heap and stays there. Argon2 takes
  19 MiB per password hash: after a few logins the API kept ~40-60 MiB it did not use.
  Setting `M_MMAP_THRESHOLD` fixes the threshold (and turns the adjustment off).

The environment's MALLOC_ARENA_MAX does the first only if whoever starts the process sets
it; `mallopt` does both from the settings, for memory allocated afterwards.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Final

M_MMAP_THRESHOLD: Final = -3  # glibc's malloc.h
M_ARENA_MAX: Final = -8


def tune_malloc(*, arena_max: int, mmap_threshold: int) -> bool:
    """Cap the arenas and fix the mmap threshold (0 leaves either as glibc has it); False
    when this is not glibc."""
    name = ctypes.util.find_library("c")
    mallopt = getattr(ctypes.CDLL(name), "mallopt", None) if name else None
    if mallopt is None:  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    ok = True
    if arena_max > 0:
        ok = bool(mallopt(M_ARENA_MAX, arena_max)) and ok
    if mmap_threshold > 0:
        ok = bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and ok
    return ok
