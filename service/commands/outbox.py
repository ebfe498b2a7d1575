"""`orders outbox status`: what waits in the outbox, for the relay and for RabbitMQ."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import asdict
from typing import Any

from service.commands.output import add_json_flag, emit
from service.settings import Settings
from store.db import create_pool
from store.outbox import Backlog
from usecases.outbox import Outbox


def register(sub: Any) -> None:
    outbox = sub.add_parser("outbox", help="the transactional outbox").add_subparsers(
        dest="outbox_command", required=True
    )
    status = outbox.add_parser("status", help="rows waiting, by state; the oldest one's age")
    add_json_flag(status)
    status.set_defaults(run=status_command)


async def _backlog(settings: Settings) -> Backlog:
    pool = await create_pool(settings.dsn, min_size=1, max_size=1)
    try:
        return await Outbox(pool).backlog()
    finally:
        await pool.close()


def _lines(data: dict[str, Any]) -> list[str]:
    return [
        f"waiting for the relay   {data['unrelayed']}",
        f"waiting for RabbitMQ    {data['unpublished']}",
        f"oldest waiting row      {data['oldest_unrelayed_seconds']:.1f} s",
    ]


def status_command(settings: Settings, args: argparse.Namespace) -> None:
    emit(args, asdict(asyncio.run(_backlog(settings))), _lines)
