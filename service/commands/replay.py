"""`orders workflows replay`: a bounded sample of the server's histories replayed with this
code (workflows.replay), the check before a deploy; exit status 1 when one no longer
replays. `--sample`, `--limit` and `--since` bound it; `--query` chooses other histories
than the default, those a worker of this version may be given."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from service.commands.output import add_json_flag, emit
from service.commands.workflows import _deployment, _with_client, duration
from service.settings import Settings

SAMPLE = 20
LIMIT = 500


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number, 1 or more")
    return value


def register(workflows: Any) -> None:
    replay = workflows.add_parser(
        "replay",
        help="replay a bounded sample of the server's workflow histories with this code"
        " (exit 1 if any fails)",
    )
    replay.add_argument(
        "--query",
        help="a visibility query (default: the histories of this version's runs and the"
        " unversioned ones, which a worker of it may be given)",
    )
    replay.add_argument(
        "--sample",
        type=positive,
        default=SAMPLE,
        metavar="N",
        help="at most N histories, the newest, of each workflow type, execution status,"
        f" OrderPhase and OrderStatus ({SAMPLE})",
    )
    replay.add_argument(
        "--limit", type=positive, default=LIMIT, metavar="N", help=f"at most N in all ({LIMIT})"
    )
    replay.add_argument(
        "--since",
        type=duration,
        metavar="DURATION",
        help="only runs started within DURATION, e.g. 24h (default: the whole retention)",
    )
    add_json_flag(replay)
    replay.set_defaults(run=replay_command)


def replay_command(settings: Settings, args: argparse.Namespace) -> None:
    from workflows.replay import replay_histories, runnable_by
    from workflows.replay_sample import Sampling

    query = args.query or runnable_by(_deployment(settings))
    since = datetime.now(UTC) - args.since if args.since is not None else None
    sampling = Sampling(per_stratum=args.sample, limit=args.limit, since=since)
    from temporalio.service import RPCError

    try:
        report = _with_client(
            settings, lambda c: replay_histories(c, query=query, sampling=sampling)
        )
    except RPCError as exc:  # a query it refuses, a namespace not set up
        raise SystemExit(
            f"orders workflows replay: Temporal refused it ({exc.status.name}): {exc}"
            " (`orders temporal check` says whether the namespace is set up)"
        ) from None

    def lines(data: dict[str, Any]) -> list[str]:
        failed = [f"  {wf}: {why}" for wf, why in data["failures"].items()]
        return [
            f"replayed {data['replayed']} of {data['matching']} histories"
            f" (at most {args.sample} of each kind, {args.limit} in all),"
            f" {len(failed)} failed",
            *(f"  {count:>5}  {kind}" for kind, count in data["strata"].items()),
            *failed,
        ]

    emit(args, asdict(report), lines)
    if not report.ok:
        raise SystemExit(1)
