"""`orders serve`: the service, with the roles of SERVICE_ROLES (or --roles)."""

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
    serve.set_defaults(run=run)


def with_overrides(settings: Settings, args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if getattr(args, "roles", None):
        overrides["service_roles"] = frozenset(Role(r.strip()) for r in args.roles.split(","))
    if getattr(args, "port", None):
        overrides["http_port"] = args.port
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
    log.info(
        "starting roles=%s http=%s:%d read_timeout=%ss",
        ",".join(sorted(settings.service_roles)),
        settings.http_host,
        settings.http_port,
        settings.http_read_timeout_seconds,
    )
    http_server.run(create_app(settings, tracer_provider=tracer_provider), settings)
