"""The Temporal client side the service needs besides starting workflows: is it serving?"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from temporalio.client import Client
from temporalio.service import RPCError

log = logging.getLogger(__name__)


async def serving(client: Client, *, timeout_seconds: float) -> bool:
    """True when the Temporal frontend answers its health check in time."""
    try:
        # A lazy client connects on its first call, so bound the whole call too.
        async with asyncio.timeout(timeout_seconds + 0.5):
            return bool(
                await client.service_client.check_health(timeout=timedelta(seconds=timeout_seconds))
            )
    except (RuntimeError, RPCError, TimeoutError) as exc:
        log.warning("readiness: temporal down error=%r", exc)
        return False
