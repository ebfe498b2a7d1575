"""The subcommands of `orders`: each module adds its parser and sets `run(settings, args)`."""

from __future__ import annotations

import argparse

from service.commands import (
    celery_worker,
    dlq,
    migrate,
    outbox,
    reset,
    serve,
    temporal,
    users,
    workflows,
)


def build_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orders", description=description)
    sub = parser.add_subparsers(dest="command")
    for command in (serve, migrate, celery_worker, outbox, dlq, users, workflows, temporal, reset):
        command.register(sub)
    return parser
