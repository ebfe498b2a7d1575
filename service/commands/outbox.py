"""`orders outbox status|parked|retry|discard`: what waits in the outbox, what the relay
gave up on (parked, with the reason), giving parked rows back to the relay after a fix,
and throwing away those that can never succeed (with a reason, in an audit line)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from service.commands.failures import POSTGRESQL, server_errors
from service.commands.identity import who
from service.commands.output import add_json_flag, emit
from service.settings import Settings

if TYPE_CHECKING:  # imported when the command runs: `orders celery` loads no asyncpg
    from store.outbox_backlog import Backlog
    from usecases.outbox import Outbox

T = TypeVar("T")


def register(sub: Any) -> None:
    outbox = sub.add_parser("outbox", help="the transactional outbox").add_subparsers(
        dest="outbox_command", required=True
    )
    status = outbox.add_parser("status", help="rows waiting, by state; the oldest one's age")
    add_json_flag(status)
    status.set_defaults(run=status_command)
    parked = outbox.add_parser("parked", help="rows the relay gave up on, with the reason")
    parked.add_argument("--limit", type=int, default=100, help="at most this many (100)")
    add_json_flag(parked)
    parked.set_defaults(run=parked_command)
    retry = outbox.add_parser("retry", help="give parked rows back to the relay, after a fix")
    _which_parked(retry)
    add_json_flag(retry)
    retry.set_defaults(run=retry_command)
    discard = outbox.add_parser(
        "discard", help="throw away parked rows that can never succeed (an audit line each)"
    )
    _which_parked(discard)
    discard.add_argument("--reason", required=True, help="why: written in the audit line")
    add_json_flag(discard)
    discard.set_defaults(run=discard_command)


def _which_parked(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("event_ids", nargs="*", default=[], type=UUID, metavar="ID")
    which.add_argument("--all", action="store_true", help="every parked row")
    which.add_argument("--order", type=UUID, help="the parked rows of one order")


def _with_outbox(settings: Settings, use: Callable[[Outbox], Awaitable[T]]) -> T:
    async def run() -> T:
        from store.db import create_pool
        from usecases.outbox import Outbox

        pool = await create_pool(settings.dsn, min_size=1, max_size=1)
        try:
            return await use(Outbox(pool))
        finally:
            await pool.close()

    with server_errors("outbox", POSTGRESQL):
        return asyncio.run(run())


def _lines(data: dict[str, Any]) -> list[str]:
    return [
        f"waiting for the relay   {data['unrelayed']}",
        f"waiting for RabbitMQ    {data['unpublished']}",
        f"parked                  {data['parked']}",
        f"oldest waiting row      {data['oldest_unrelayed_seconds']:.1f} s",
    ]


def status_command(settings: Settings, args: argparse.Namespace) -> None:
    backlog: Backlog = _with_outbox(settings, lambda o: o.backlog())
    emit(args, asdict(backlog), _lines)


def parked_command(settings: Settings, args: argparse.Namespace) -> None:
    rows = _with_outbox(settings, lambda o: o.parked(limit=args.limit))

    def lines(data: list[dict[str, Any]]) -> list[str]:
        if not data:
            return ["no parked rows"]
        return [
            f"{r['id']}  order {r['aggregate_id']}  {r['event_type']}  {r['reason']}" for r in data
        ]

    emit(args, [asdict(r) for r in rows], lines)


def retry_command(settings: Settings, args: argparse.Namespace) -> None:
    async def redrive(outbox: Outbox) -> list[UUID]:
        if args.all:
            return await outbox.redrive()
        if args.order:
            return await outbox.redrive(order_id=args.order)
        return await outbox.redrive(event_ids=args.event_ids)

    ids = _with_outbox(settings, redrive)
    emit(args, [str(i) for i in ids], lambda d: [f"{len(d)} row(s) given back to the relay"])


def discard_command(settings: Settings, args: argparse.Namespace) -> None:
    if not args.reason.strip():
        raise SystemExit("orders outbox discard: --reason must say why")
    which = {"order_id": args.order} if args.order else {}
    if not (args.all or args.order):
        which = {"event_ids": args.event_ids}
    rows = _with_outbox(settings, lambda o: o.discard(reason=args.reason, by=who(), **which))
    found = {r.id for r in rows}
    missing = [str(i) for i in args.event_ids if i not in found]

    def lines(data: dict[str, Any]) -> list[str]:
        out = [f"discarded {len(data['discarded'])} parked row(s)"]
        out += [
            f"  {r['id']}  order {r['aggregate_id']}  {r['event_type']}  {r['reason']}"
            for r in data["discarded"]
        ]
        out += [f"not a parked row: {m}" for m in data["missing"]]
        return out

    emit(args, {"discarded": [asdict(r) for r in rows], "missing": missing}, lines)
    if missing:
        raise SystemExit(1)
