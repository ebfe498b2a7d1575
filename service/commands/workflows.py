"""`orders workflows replay`: every history of the running server replayed with this code,
the check before a deploy (exit status 1 when one no longer replays)."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from service.commands.output import add_json_flag, emit
from service.settings import Settings

if TYPE_CHECKING:  # imported when the command runs
    from temporalio.client import Client

    from workflows.replay import ReplayReport


def register(sub: Any) -> None:
    workflows = sub.add_parser("workflows", help="check the Temporal workflows").add_subparsers(
        dest="workflows_command", required=True
    )
    replay = workflows.add_parser(
        "replay", help="replay the server's workflow histories with this code (exit 1 if any fails)"
    )
    replay.add_argument("--query", help="a visibility query (default: every workflow of ours)")
    add_json_flag(replay)
    replay.set_defaults(run=replay_command)


def replay_command(settings: Settings, args: argparse.Namespace) -> None:
    from service.commands.temporal import with_client
    from workflows.replay import ALL_OURS, replay_histories

    async def replay(client: Client) -> ReplayReport:
        return await replay_histories(client, query=args.query or ALL_OURS)

    report = asyncio.run(with_client(settings, 0, replay))

    def lines(data: dict[str, Any]) -> list[str]:
        failed = [f"  {wf}: {why}" for wf, why in data["failures"].items()]
        return [f"replayed {data['replayed']} histories, {len(failed)} failed", *failed]

    emit(args, {"replayed": report.replayed, "failures": report.failures}, lines)
    if not report.ok:
        raise SystemExit(1)
