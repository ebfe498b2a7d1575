"""`orders dlq list` and `orders dlq replay`: the consumer's dead letters, seen and re-driven."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from service.commands.output import add_json_flag, emit
from service.settings import Settings

if TYPE_CHECKING:  # imported when the command runs: `orders celery` loads no RabbitMQ client
    from messaging.dlq import DeadLetter, DeadLetters


def register(sub: Any) -> None:
    dlq = sub.add_parser("dlq", help="the new-order dead-letter queue").add_subparsers(
        dest="dlq_command", required=True
    )
    listing = dlq.add_parser("list", help="show dead letters (they stay in the queue)")
    listing.add_argument("--limit", type=int, default=20, help="at most this many (20)")
    add_json_flag(listing)
    listing.set_defaults(run=list_command)
    replay = dlq.add_parser("replay", help="send dead letters back to the new-order queue")
    replay.add_argument("--limit", type=int, default=100, help="at most this many (100)")
    add_json_flag(replay)
    replay.set_defaults(run=replay_command)


def _dead_letters(settings: Settings) -> DeadLetters:
    from messaging.dlq import DeadLetters
    from service import pipeline

    return DeadLetters(
        settings.rabbitmq_url,
        pipeline.topology(settings),
        timeout_seconds=settings.rabbitmq_timeout_seconds,
    )


def _lines(letters: list[dict[str, Any]]) -> list[str]:
    if not letters:
        return ["no dead letters"]
    return [f"{d['message_id'] or '-'}  {d['reason']}\n    {d['body'][:200]}" for d in letters]


def _as_dicts(letters: list[DeadLetter]) -> list[dict[str, Any]]:
    return [asdict(letter) for letter in letters]


def list_command(settings: Settings, args: argparse.Namespace) -> None:
    letters = asyncio.run(_dead_letters(settings).peek(args.limit))
    emit(args, _as_dicts(letters), _lines)


def replay_command(settings: Settings, args: argparse.Namespace) -> None:
    letters = asyncio.run(_dead_letters(settings).replay(args.limit))

    from service import pipeline

    def lines(data: list[dict[str, Any]]) -> list[str]:
        return [f"replayed {len(data)} message(s) to {pipeline.topology(settings).new_order_queue}"]

    emit(args, _as_dicts(letters), lines)
