"""`orders reset`: empties the local state, every part at once (service/reset.py says what,
and when it refuses). It asks first, on a terminal; `--yes` does not ask, and without a
terminal nothing happens without it."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from service.commands.output import add_json_flag, emit
from service.settings import Settings

CONFIRMATION = "reset"


def register(sub: Any) -> None:
    reset = sub.add_parser(
        "reset",
        help="empty the local state: database, Redis keys, RabbitMQ queues, Temporal dev data",
    )
    reset.add_argument("--yes", action="store_true", help="do not ask first")
    reset.add_argument(
        "--temporal-data",
        type=Path,
        metavar="DIR",
        help="the Temporal dev server's data folder, emptied too (`make reset` passes"
        " TEMPORAL_DEV_DATA, else temporal-dev/data); the server must be stopped",
    )
    add_json_flag(reset)
    reset.set_defaults(run=run)


def _where(url: str) -> str:
    """host:port/db of a Redis URL, without its credentials."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"


def plan(settings: Settings, temporal_data: Path | None) -> list[str]:
    from service import pipeline
    from service.reset import database_name
    from store.cache import CACHE_KEY_PREFIX

    topology = pipeline.topology(settings)
    temporal = (
        f"the dev server's files in {temporal_data}"
        if temporal_data
        else "not touched (no --temporal-data): the old orders' workflows stay"
    )
    return [
        f"  PostgreSQL  database {database_name(settings)}: dropped, created, migrated",
        f"  Redis       {_where(settings.redis_url)}: keys {CACHE_KEY_PREFIX}* (the cache)"
        f" and {settings.rate_limit_key_prefix}:* (rate limits)",
        f"  Celery      queue {settings.celery_queue} on {_where(settings.broker_url)}:"
        " its tasks, waiting or taken",
        f"  RabbitMQ    queues {topology.new_order_queue}, {topology.dlq},"
        f" {topology.status_queue} and exchange {topology.exchange}"
        f" on {settings.rabbitmq_host} vhost {settings.rabbitmq_vhost}",
        f"  Temporal    {temporal}",
    ]


def _confirm(lines: list[str]) -> None:
    """Ask on a terminal; refuse without one (`--yes` skips this)."""
    listed = "".join(f"{line}\n" for line in lines)
    if not sys.stdin.isatty():
        raise SystemExit(
            "nothing done: confirm with --yes (make reset RESET=yes) or on a terminal."
            f" This would empty:\n{listed}"
        )
    sys.stdout.write(f"This empties:\n{listed}")
    if input(f"type '{CONFIRMATION}' to go on: ").strip() != CONFIRMATION:
        raise SystemExit("nothing done")


def _report(done: dict[str, Any]) -> list[str]:
    files = len(done["temporal_files"])
    return [
        f"database {done['database']}: dropped, created, {done['migrations']} migrations applied",
        f"Redis: {done['cache_entries']} cache entries, {done['rate_limit_buckets']}"
        f" rate-limit buckets, {done['celery_tasks']} Celery tasks deleted",
        f"RabbitMQ: queues and exchange deleted, {done['rabbitmq_messages']} messages with them",
        f"Temporal: {files} files of the dev server removed" if files else "Temporal: no files",
    ]


def run(settings: Settings, args: argparse.Namespace) -> None:
    from service.reset import Refused, check, reset

    try:
        check(settings, args.temporal_data)  # before asking: a refusal needs no answer
        if not args.yes:
            _confirm(plan(settings, args.temporal_data))
        done = reset(settings, args.temporal_data)
    except Refused as exc:
        raise SystemExit(f"nothing done: {exc}") from None
    emit(args, asdict(done), _report)
