"""Schema migrations with yoyo, safe when several processes start at once."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from yoyo import get_backend, read_migrations

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def _with_database(dsn: str, database: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + database))


def ensure_database(dsn: str) -> None:
    """Create the target database if it does not exist yet (a fresh machine has none)."""
    name = urlsplit(dsn).path.lstrip("/")
    if not name:
        return
    with psycopg.connect(_with_database(dsn, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            log.info("created database %s", name)
        except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            log.info("database %s was created concurrently", name)


SESSIONS = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"


def database_sessions(dsn: str) -> int:
    """How many sessions use the target database (a reset waits for none)."""
    name = urlsplit(dsn).path.lstrip("/")
    with psycopg.connect(_with_database(dsn, "postgres"), autocommit=True) as conn:
        row = conn.execute(SESSIONS, (name,)).fetchone()
    return int(row[0]) if row else 0


def drop_database(dsn: str) -> bool:
    """Drop the target database; False if there was none. A database still in use is not
    dropped: psycopg.errors.ObjectInUse."""
    name = urlsplit(dsn).path.lstrip("/")
    with psycopg.connect(_with_database(dsn, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
            log.info("dropped database %s", name)
    return exists is not None


def apply_migrations(dsn: str, directory: Path = MIGRATIONS_DIR) -> int:
    """Apply every pending migration under yoyo's lock; returns how many were applied."""
    ensure_database(dsn)
    scheme, rest = dsn.split("://", 1)
    backend = get_backend(f"postgresql+psycopg://{rest}" if scheme.startswith("postgres") else dsn)
    migrations = read_migrations(str(directory))
    try:
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
    finally:
        backend.connection.close()  # yoyo never closes its connection itself
    count = len(pending)
    log.info("migrations applied: %d pending, schema up to date", count)
    return count
