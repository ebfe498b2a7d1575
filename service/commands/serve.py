"""`orders serve`: the service, with the roles of SERVICE_ROLES (or --roles).

Two listeners: the public one on HTTP_HOST:HTTP_PORT (HTTP_HOST unset: every interface
when the process serves the API, else loopback), and the operator one on
OPERATOR_HOST:OPERATOR_PORT (loopback; `service.operator`), started with the app.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from service.settings import Role, Settings

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the service (default)")
    serve.add_argument("--roles", help="comma-separated roles (default: SERVICE_ROLES)")
    serve.add_argument("--port", type=int, help="HTTP port (default: HTTP_PORT)")
    serve.add_argument(
        "--operator-port",
        type=int,
        help="the operator listener's port (default: OPERATOR_PORT, else HTTP port + 1000; 0: off)",
    )
    serve.set_defaults(run=run)


def with_overrides(settings: Settings, args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if getattr(args, "roles", None):
        overrides["service_roles"] = frozenset(Role(r.strip()) for r in args.roles.split(","))
    if getattr(args, "port", None):
        overrides["http_port"] = args.port
    if getattr(args, "operator_port", None) is not None:
        overrides["operator_port"] = args.operator_port
    return settings.model_copy(update=overrides) if overrides else settings


def _install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # uvloop is optional (not on Windows)
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def run(settings: Settings, args: argparse.Namespace) -> None:
    from service import http_server
    from service.app import create_app
    from service.tracing import start_from

    settings = with_overrides(settings, args)
    _install_uvloop()
    tracer_provider = start_from(settings)  # None unless OTEL_EXPORTER_OTLP_ENDPOINT is set
    operator = settings.operator_listen_port
    log.info(
        "starting roles=%s http=%s:%d operator=%s read_timeout=%ss",
        ",".join(sorted(settings.service_roles)),
        settings.listen_host,
        settings.http_port,
        f"{settings.operator_host}:{operator}" if operator else "off",
        settings.http_read_timeout_seconds,
    )
    http_server.run(create_app(settings, tracer_provider=tracer_provider), settings)
