"""`orders migrate`: apply pending database migrations."""

from __future__ import annotations

import argparse
from typing import Any

from service.settings import Settings


def register(sub: Any) -> None:
    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(run=run)


def run(settings: Settings, args: argparse.Namespace) -> None:
    from store.migrate import apply_migrations  # when it runs: `orders celery` loads no yoyo

    apply_migrations(settings.dsn)
