"""The process's malloc arenas, capped before its threads start.

glibc gives each thread that allocates under contention an arena of its own, up to eight
per core; the Temporal SDK's Rust threads, the Celery pool's threads and the executors
each touch one, and freed memory stays in them. MALLOC_ARENA_MAX does this from the
environment, but only when whoever starts the process sets it; `mallopt` sets it from
the settings, for arenas created afterwards (so: in `main()`, before any thread starts).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from typing import Final

log = logging.getLogger(__name__)

M_ARENA_MAX: Final = -8  # glibc's malloc.h


def limit_arenas(count: int) -> bool:
    """Cap glibc's malloc arenas at `count` (0: leave glibc's default); False when not glibc."""
    if count <= 0:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:  # not glibc (musl has no mallopt of this kind)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, count))
