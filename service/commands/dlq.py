"""`orders dlq list|replay|discard`: the consumer's dead letters, seen, re-driven after a
fix, or thrown away when they can never succeed (with a reason, in an audit line)."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from service.commands.failures import RABBITMQ, server_errors
from service.commands.identity import who
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
    replay = dlq.add_parser(
        "replay",
        help="send dead letters back to the new-order queue, each once; stop at one that"
        " comes straight back (exit 1)",
    )
    replay.add_argument("--limit", type=int, default=100, help="at most this many (100)")
    add_json_flag(replay)
    replay.set_defaults(run=replay_command)
    discard = dlq.add_parser(
        "discard", help="throw away dead letters that can never succeed (an audit line each)"
    )
    which = discard.add_mutually_exclusive_group(required=True)
    which.add_argument("message_ids", nargs="*", default=[], metavar="MESSAGE_ID")
    which.add_argument("--all", action="store_true", help="every message in the DLQ")
    discard.add_argument("--reason", required=True, help="why: written in the audit line")
    add_json_flag(discard)
    discard.set_defaults(run=discard_command)


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
    with server_errors("dlq list", RABBITMQ):
        letters = asyncio.run(_dead_letters(settings).peek(args.limit))
    emit(args, _as_dicts(letters), _lines)


def replay_command(settings: Settings, args: argparse.Namespace) -> None:
    from service import pipeline

    with server_errors("dlq replay", RABBITMQ):
        replayed = asyncio.run(_dead_letters(settings).replay(args.limit))
    topology = pipeline.topology(settings)

    def lines(data: dict[str, Any]) -> list[str]:
        out = [f"replayed {len(data['sent'])} message(s) to {topology.new_order_queue}"]
        back = data["came_back"]
        if back is not None:
            out.append(
                f"stopped: message {back['message_id'] or '-'} came straight back to"
                f" {topology.dlq} ({back['reason'] or 'no reason given'}): its cause is not"
                " fixed; it stays there (orders dlq list)"
            )
        return out

    emit(args, asdict(replayed), lines)
    if replayed.came_back is not None:
        raise SystemExit(1)


def discard_command(settings: Settings, args: argparse.Namespace) -> None:
    if not args.reason.strip():
        raise SystemExit("orders dlq discard: --reason must say why")
    with server_errors("dlq discard", RABBITMQ):
        result = asyncio.run(
            _dead_letters(settings).discard(
                message_ids=args.message_ids,
                every=args.all,
                reason=args.reason,
                by=who(),
            )
        )

    def lines(data: dict[str, Any]) -> list[str]:
        out = [f"discarded {len(data['discarded'])} message(s)"]
        out += [f"  {d['message_id'] or '-'}  {d['reason'] or '-'}" for d in data["discarded"]]
        out += [f"not in the DLQ: {m}" for m in data["missing"]]
        return out

    emit(args, asdict(result), lines)
    if result.missing:
        raise SystemExit(1)
