"""The operator listener: a second aiohttp site of every `orders serve` process, on
OPERATOR_HOST:OPERATOR_PORT (127.0.0.1, and HTTP_PORT + 1000, unless configured).

It answers /health, /ready with the details the public /ready leaves out (each role's
state, restarts and last error, parked outbox rows) and /metrics, which the public port
serves too unless METRICS_PUBLIC=false. Both are computed at most about once a second
(`api.cached`), so nobody who reaches it can slow the API down. It shares the process's
readiness probes and metrics exporter, and starts and stops with the public app.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from api.health import setup_operator_health
from api.keys import READINESS
from api.metrics import setup_metrics
from service.keys import METRICS_EXPORTER, SETTINGS

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT_SECONDS = 5.0


async def operator_listener(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context of the public app: the operator site runs while the app does."""
    settings = app[SETTINGS]
    port = settings.operator_listen_port
    assert port is not None, "added only when the operator listener is on"
    operator = web.Application()
    operator[READINESS] = app[READINESS]
    setup_operator_health(operator)
    setup_metrics(operator, app[METRICS_EXPORTER])
    runner = web.AppRunner(
        operator, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS
    )
    await runner.setup()
    try:
        await _listen(runner, settings.operator_host, port)
        yield
    finally:
        await runner.cleanup()


async def _listen(runner: web.AppRunner, host: str, port: int) -> None:
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        log.error(
            "operator listener cannot listen on %s:%d (OPERATOR_HOST, OPERATOR_PORT or "
            "--operator-port; OPERATOR_PORT=0: none) error=%s",
            host,
            port,
            exc,
        )
        raise
    log.info("operator listener on %s:%d (/ready with details, /metrics)", host, port)
