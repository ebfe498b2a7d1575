"""How every part of the service reaches Temporal: one connection recipe, and the health check.

`TemporalConnection` holds the values a client needs (address, namespace, TLS, API key,
data converter, interceptors); the API's client, the worker's and the operator commands'
are all made by its `connect`, so they can never disagree on how to reach the cluster.
The composition root builds it from the settings (`service.temporal`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from temporalio.client import Client, Interceptor
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import RPCError, TLSConfig

log = logging.getLogger(__name__)

# What a call to Temporal raises when the server is away, slow or answering an error: the
# one tuple every caller that waits and tries again catches. The SDK raises RuntimeError
# when it cannot connect (a lazy client on its first call, a worker's poll), RPCError for
# an error answer, and TimeoutError is our own bound on the call. A caller that tells some
# RPC status codes apart catches RPCError first.
TEMPORAL_FAILURES: Final[tuple[type[Exception], ...]] = (RPCError, RuntimeError, TimeoutError)


@dataclass(frozen=True, slots=True)
class TemporalConnection:
    address: str
    namespace: str = "default"
    # False: plaintext; True: TLS with the system's CAs; a TLSConfig: its CA, client
    # certificate and key, server name. Never printed: it may hold a private key.
    tls: TLSConfig | bool = field(default=False, repr=False)
    api_key: str | None = field(default=None, repr=False)  # sent with every call
    data_converter: DataConverter = field(default=DataConverter.default, repr=False)
    interceptors: Sequence[Interceptor] = field(default=(), repr=False)

    async def connect(self, *, lazy: bool = False, runtime: Runtime | None = None) -> Client:
        """A client of the namespace; `lazy`: it connects on its first call (so a process
        starts while Temporal is down); `runtime`: the worker's, with its metrics."""
        return await Client.connect(
            self.address,
            namespace=self.namespace,
            api_key=self.api_key,
            tls=self.tls,
            data_converter=self.data_converter,
            interceptors=list(self.interceptors),
            lazy=lazy,
            runtime=runtime,
        )

    @property
    def secured(self) -> bool:
        return self.tls is not False


async def serving(client: Client, *, timeout_seconds: float) -> bool:
    """True when the Temporal frontend answers its health check in time."""
    try:
        # A lazy client connects on its first call, so bound the whole call too.
        async with asyncio.timeout(timeout_seconds + 0.5):
            return bool(
                await client.service_client.check_health(timeout=timedelta(seconds=timeout_seconds))
            )
    except TEMPORAL_FAILURES as exc:
        log.warning("readiness: temporal down error=%r", exc)
        return False
