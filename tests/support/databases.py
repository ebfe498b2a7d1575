"""Databases of a test's own: a relay claims every unrelayed outbox row it can see, so a
suite that runs relays must not share its database with another suite's relays."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from store.migrate import apply_migrations
from tests.support.settings import TEST_DSN


def with_database(dsn: str, name: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path="/" + name))


def create_database(base_dsn: str, prefix: str) -> str:
    """A new, migrated database next to `base_dsn`'s; returns its URL."""
    dsn = with_database(base_dsn, f"{prefix}_{uuid.uuid4().hex[:8]}")
    apply_migrations(dsn)  # creates the database first
    return dsn


def drop_database(dsn: str) -> None:
    name = urlsplit(dsn).path.lstrip("/")
    with psycopg.connect(with_database(dsn, "postgres"), autocommit=True) as conn:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(drop.format(sql.Identifier(name)))


@contextlib.contextmanager
def own_database(prefix: str) -> Iterator[str]:
    """A database of the test's own beside the test database, migrated, dropped afterwards."""
    dsn = create_database(TEST_DSN, prefix)
    try:
        yield dsn
    finally:
        drop_database(dsn)
