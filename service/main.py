"""The `orders` command: `serve` the service (with roles), `migrate`, run a `celery` worker,
and the operator's commands (`outbox`, `dlq`, `user`, `workflows replay`: the running
server's histories replayed with this code, a deploy check; `temporal setup`: the namespace
and its search attributes provisioned)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from service.commands import build_parser
from service.logs import configure_logging
from service.memory import tune_malloc
from service.priority import yield_cpu
from service.settings import Settings, load

log = logging.getLogger(__name__)


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser(__doc__ or "")
    args, rest = parser.parse_known_args(argv)
    if args.command is None:  # `orders` alone serves, as it always did
        args, rest = parser.parse_known_args(["serve", *(argv or [])])
    if rest and not getattr(args, "passthrough", False):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest
    # A command may read fewer settings than the service (`orders temporal`: the cluster's).
    settings = load(getattr(args, "settings_class", Settings))
    tune_malloc(  # before any thread starts
        arena_max=settings.malloc_arena_max, mmap_threshold=settings.malloc_mmap_threshold
    )
    configure_logging(settings.log_level, settings.log_format)
    yield_cpu(settings.cpu_niceness)
    args.run(settings, args)
