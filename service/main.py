"""The `orders` command: `serve` the service (with roles), `migrate`, run a `celery` worker,
`workflows replay` (the running server's histories with this code: a deploy check)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Sequence

from aiohttp import web
from celery.signals import worker_process_shutdown

from processing.tasks import close_connection
from service import pipeline
from service.logs import configure_logging
from service.settings import Role, Settings, load_settings
from store.migrate import apply_migrations

log = logging.getLogger(__name__)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="orders", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the service (default)")
    serve.add_argument("--roles", help="comma-separated roles (default: SERVICE_ROLES)")
    serve.add_argument("--port", type=int, help="HTTP port (default: HTTP_PORT)")
    sub.add_parser("migrate", help="apply pending database migrations")
    sub.add_parser("celery", help="run a Celery worker for process_order (args go to Celery)")
    workflows = sub.add_parser("workflows", help="check the Temporal workflows")
    workflows_sub = workflows.add_subparsers(dest="workflows_command", required=True)
    replay = workflows_sub.add_parser(
        "replay", help="replay the server's workflow histories with this code (exit 1 if any fails)"
    )
    replay.add_argument("--query", help="a visibility query (default: every workflow of ours)")
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "celery":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.celery_args = rest
    return args


def _install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # uvloop is optional (not on Windows)
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _run_celery(settings: Settings, argv: Sequence[str]) -> None:
    """A Celery worker for `process_order` (the `orders celery` command)."""
    app = pipeline.celery(settings)
    worker_process_shutdown.connect(lambda **_: close_connection(app), weak=False)
    app.worker_main(["worker", "--loglevel", settings.log_level, *argv])


def _replay(settings: Settings, query: str | None) -> None:
    """`orders workflows replay`: exits 1 when a history no longer replays."""
    from temporalio.client import Client

    from workflows.replay import ALL_OURS, replay_histories

    async def run() -> bool:
        client = await Client.connect(
            settings.temporal_address, namespace=settings.temporal_namespace
        )
        report = await replay_histories(client, query=query or ALL_OURS)
        return report.ok

    if not asyncio.run(run()):
        raise SystemExit(1)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse(argv)
    settings = load_settings()
    overrides: dict[str, object] = {}
    if getattr(args, "roles", None):
        overrides["service_roles"] = frozenset(Role(r.strip()) for r in args.roles.split(","))
    if getattr(args, "port", None):
        overrides["http_port"] = args.port
    if overrides:
        settings = settings.model_copy(update=overrides)
    configure_logging(settings.log_level, settings.log_format)

    if args.command == "migrate":
        apply_migrations(settings.dsn)
        return
    if args.command == "celery":
        _run_celery(settings, args.celery_args)
        return
    if args.command == "workflows":
        _replay(settings, args.query)
        return

    from service.app import create_app

    _install_uvloop()
    log.info(
        "starting roles=%s http=%s:%d",
        ",".join(sorted(settings.service_roles)),
        settings.http_host,
        settings.http_port,
    )
    web.run_app(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        access_log=logging.getLogger("aiohttp.access"),
        shutdown_timeout=15.0,
        print=None,
    )
