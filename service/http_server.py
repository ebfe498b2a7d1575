"""The HTTP listener of `orders serve`: the app on `api.protocol`'s server (a read deadline,
quiet answers to malformed requests), until SIGINT or SIGTERM, then a graceful stop.

The options are the ones `web.run_app` gave before, plus the read timeout; tests serve
their apps through `runner()` too, so they meet the server clients meet.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from api.server import HttpRunner
from service.settings import Settings

# Idle keep-alive connections are closed after this (aiohttp's run_app default, as before).
KEEPALIVE_TIMEOUT_SECONDS = 75.0
# On SIGTERM, requests in flight get this long to finish.
SHUTDOWN_TIMEOUT_SECONDS = 15.0


def runner(app: web.Application, settings: Settings) -> HttpRunner:
    return HttpRunner(
        app,
        read_timeout=settings.http_read_timeout_seconds,
        keepalive_timeout=KEEPALIVE_TIMEOUT_SECONDS,
        shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS,
        access_log=logging.getLogger("aiohttp.access"),
    )


async def serve(app: web.Application, settings: Settings) -> None:
    """Serve `app` on its listen host (HTTP_HOST) and HTTP_PORT until SIGINT or SIGTERM."""
    http = runner(app, settings)
    await http.setup()
    try:
        await web.TCPSite(http, settings.listen_host, settings.http_port).start()
        await _signalled()
    finally:
        await http.cleanup()


async def _signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def run(app: web.Application, settings: Settings) -> None:
    asyncio.run(serve(app, settings))
