"""What the use cases promise their callers about failures of the database."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from core.errors import DatabaseBusy, DatabaseUnavailable
from store.db import BUSY, UNAVAILABLE

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def database_guarded(call: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """PostgreSQL unreachable becomes DatabaseUnavailable; saturated, DatabaseBusy."""

    @functools.wraps(call)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await call(*args, **kwargs)
        except BUSY as exc:  # before UNAVAILABLE: a TimeoutError is an OSError too
            log.warning("database busy error=%r", exc)
            raise DatabaseBusy() from exc
        except UNAVAILABLE as exc:
            log.warning("database unavailable error=%r", exc)
            raise DatabaseUnavailable() from exc

    return guarded
