"""The server and runner that serve the app on `api.protocol`'s connection handler.

aiohttp builds its connection handler in `web.Server.__call__` and its server in
`AppRunner._make_server`, with no option to choose either: `HttpServer` makes
`ConnectionHandler`s and tells each when a request's header is in (through the request
factory), and `HttpRunner` overrides `_make_server`, the one private hook used, to serve
through it. `service.http_server` builds the runner with the service's options.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiohttp import web

from api.protocol import ConnectionHandler

RequestFactory = Callable[..., web.BaseRequest]


class HttpServer(web.Server):
    """aiohttp's server, making `ConnectionHandler`s and telling each when a request starts."""

    def __init__(
        self,
        handler: Any,
        *,
        request_factory: RequestFactory,
        read_timeout: float,
        handler_cancellation: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            handler,
            request_factory=_announcing(request_factory),
            handler_cancellation=handler_cancellation,
            **kwargs,
        )
        self._read_timeout = read_timeout
        self._handler_options = kwargs
        self._handler_loop = asyncio.get_running_loop()

    def __call__(self) -> ConnectionHandler:
        return ConnectionHandler(
            self, loop=self._handler_loop, read_timeout=self._read_timeout, **self._handler_options
        )


def _announcing(factory: RequestFactory) -> RequestFactory:
    def make(message: Any, payload: Any, protocol: Any, *args: Any) -> web.BaseRequest:
        if isinstance(protocol, ConnectionHandler):
            protocol.request_started(payload)
        return factory(message, payload, protocol, *args)

    return make


class HttpRunner(web.AppRunner):
    """`web.AppRunner` serving through `HttpServer`; `options` go to each connection's
    handler as aiohttp's do (keepalive_timeout, access_log, ...)."""

    def __init__(
        self,
        app: web.Application,
        *,
        read_timeout: float,
        shutdown_timeout: float = 60.0,
        handler_cancellation: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(
            app,
            shutdown_timeout=shutdown_timeout,
            handler_cancellation=handler_cancellation,
            **options,
        )
        self._read_timeout = read_timeout
        self._options = options

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()  # the app started; its server is replaced
        return HttpServer(
            made.request_handler,
            request_factory=made.request_factory,
            read_timeout=self._read_timeout,
            handler_cancellation=made.handler_cancellation,
            **self._options,
        )
