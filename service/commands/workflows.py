"""`orders workflows ...`: the order workflows on the Temporal server, for an operator.

replay    a bounded sample of the server's histories (of every workflow type, execution
          status, phase and status) replayed with this code, the check before a deploy
          (exit status 1 when one no longer replays)
stuck     orders published and not processed within PROCESSING_TIMEOUT (visibility)
retry     a stuck order checks and republishes again (the `retry_processing` signal)
promote   make this code's version current, and wake the runs on the others
versions  open orders per version: an old version's workers may stop once it has none
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from service.commands.output import add_json_flag, emit
from service.settings import Settings
from service.settings.durations import FORMS, Duration

if TYPE_CHECKING:  # imported when a command runs: `orders celery` loads no Temporal client
    from temporalio.client import Client

    from workflows.versions import Deployment

T = TypeVar("T")


def duration(text: str) -> timedelta:
    """A duration as every duration setting takes it (service/settings/durations.py)."""
    try:
        return TypeAdapter(Duration).validate_python(text)
    except ValidationError:
        raise argparse.ArgumentTypeError(f"{text!r}: {FORMS}") from None


def register(sub: Any) -> None:
    workflows = sub.add_parser("workflows", help="the order workflows in Temporal").add_subparsers(
        dest="workflows_command", required=True
    )
    from service.commands import replay  # it uses this module's helpers

    replay.register(workflows)

    stuck = workflows.add_parser(
        "stuck", help="orders published but not processed within PROCESSING_TIMEOUT"
    )
    stuck.add_argument("--older-than", type=duration, default=timedelta(0), metavar="DURATION")
    stuck.add_argument("--limit", type=int, default=1000, help="at most this many (1000)")
    add_json_flag(stuck)
    stuck.set_defaults(run=stuck_command)

    retry = workflows.add_parser("retry", help="stuck orders check and republish again")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("order_ids", nargs="*", default=[], metavar="ORDER_ID")
    which.add_argument("--all-stuck", action="store_true", help="every order in phase stuck")
    add_json_flag(retry)
    retry.set_defaults(run=retry_command)

    promote = workflows.add_parser(
        "promote", help="make this code's version current; wake the runs on the others"
    )
    promote.add_argument("--build-id", help="another version than this code's (TEMPORAL_BUILD_ID)")
    promote.add_argument("--no-wake", action="store_true", help="only make it current")
    add_json_flag(promote)
    promote.set_defaults(run=promote_command)

    versions = workflows.add_parser("versions", help="open orders per version of the workers")
    add_json_flag(versions)
    versions.set_defaults(run=versions_command)


def _with_client(settings: Settings, use: Callable[[Client], Awaitable[T]]) -> T:
    """Run `use` with a client made by the service's one recipe (TLS, API key), freed before
    the interpreter exits (`service.commands.temporal.with_client`)."""
    from service.commands.temporal import with_client

    return asyncio.run(with_client(settings, 0, use))


def stuck_command(settings: Settings, args: argparse.Namespace) -> None:
    from workflows.stuck import overdue_orders

    now = datetime.now(UTC)
    found = _with_client(
        settings,
        lambda c: overdue_orders(c, now=now, older_than=args.older_than, limit=args.limit),
    )

    def lines(data: list[dict[str, Any]]) -> list[str]:
        if not data:
            return ["no order is overdue for processing"]
        return [
            f"{o['order_id']}  {o['phase']:<12}  age {_age(o['age_seconds'])}"
            f"  republished {o['republishes']}x"
            for o in data
        ]

    emit(args, [asdict(o) for o in found], lines)


def retry_command(settings: Settings, args: argparse.Namespace) -> None:
    from workflows.names import SIGNAL_RETRY_PROCESSING, OrderPhase, workflow_id
    from workflows.stuck import phase_query

    async def retry(client: Client) -> list[str]:
        ids = [workflow_id(order) for order in args.order_ids]
        if args.all_stuck:
            ids = [w.id async for w in client.list_workflows(phase_query(OrderPhase.STUCK))]
        for wf in ids:
            await client.get_workflow_handle(wf).signal(SIGNAL_RETRY_PROCESSING)
        return ids

    signalled = _with_client(settings, retry)
    emit(args, signalled, lambda d: [f"{len(d)} order(s) told to retry processing"])


def _deployment(settings: Settings, build_id: str | None = None) -> Deployment:
    """The version of this code (or `build_id`) in the task queue's Worker Deployment."""
    from workflows.versions import Deployment, default_build_id

    build_id = build_id or settings.temporal_build_id or default_build_id()
    return Deployment(settings.temporal_task_queue, build_id)


def promote_command(settings: Settings, args: argparse.Namespace) -> None:
    from workflows import versions

    deployment = _deployment(settings, args.build_id)

    async def promote(client: Client) -> dict[str, Any]:
        async with asyncio.timeout(settings.temporal_timeout_seconds * 6):
            await versions.promote(client, deployment)
        woken = 0 if args.no_wake else await versions.wake_others(client, deployment)
        return {"deployment": deployment.name, "build_id": deployment.build_id, "woken": woken}

    result = _with_client(settings, promote)
    emit(
        args,
        result,
        lambda d: [
            f"{d['deployment']} version {d['build_id']} is current;"
            f" {d['woken']} open order(s) on other versions woken to move to it"
        ],
    )


def versions_command(settings: Settings, args: argparse.Namespace) -> None:
    from workflows import versions

    deployment = _deployment(settings)

    async def read(client: Client) -> dict[str, Any]:
        current = await versions.current_build_id(client, deployment)
        counts = await versions.open_by_version(client, deployment)
        return {"deployment": deployment.name, "current": current, "open_orders": counts}

    data = _with_client(settings, read)

    def lines(d: dict[str, Any]) -> list[str]:
        out = [f"deployment {d['deployment']}, current version: {d['current'] or 'none'}"]
        for build_id, count in d["open_orders"].items():
            mark = " (current)" if build_id == d["current"] else ""
            idle = "" if count or mark else "  no open order: its workers may stop"
            out.append(f"  {build_id}{mark}: {count} open order(s){idle}")
        return out

    emit(args, data, lines)


def _age(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"
