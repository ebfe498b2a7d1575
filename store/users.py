"""SQL for the users aggregate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from store.db import Executor

_INSERT = """
INSERT INTO users (email, password_hash) VALUES ($1, $2)
ON CONFLICT ((lower(email))) DO NOTHING
RETURNING id, email, password_hash, created_at
"""
_BY_EMAIL = "SELECT id, email, password_hash, created_at FROM users WHERE lower(email) = lower($1)"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    password_hash: str
    created_at: datetime


def _user(row: asyncpg.Record) -> User:
    return User(row["id"], row["email"], row["password_hash"], row["created_at"])


async def insert_user(conn: Executor, *, email: str, password_hash: str) -> User | None:
    """The new user, or None when the email (case-insensitively) is taken."""
    row = await conn.fetchrow(_INSERT, email, password_hash)
    return _user(row) if row else None


async def find_by_email(conn: Executor, *, email: str) -> User | None:
    row = await conn.fetchrow(_BY_EMAIL, email)
    return _user(row) if row else None
