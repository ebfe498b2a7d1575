"""Registering users and checking their credentials."""

from __future__ import annotations

import logging

import asyncpg

from core.emails import normalize_email
from core.errors import EmailTaken, InvalidCredentials
from store import users
from store.users import User
from usecases.guard import database_guarded
from usecases.passwords import Passwords

log = logging.getLogger(__name__)


def account_name(raw: str) -> str:
    """The one spelling of an email (register and login alike); other text as it came."""
    try:
        return normalize_email(raw)
    except ValueError:
        return raw.strip().lower()


class Accounts:
    def __init__(self, pool: asyncpg.Pool, passwords: Passwords, *, acquire_timeout: float) -> None:
        self._pool = pool
        self._passwords = passwords
        self._acquire_timeout = acquire_timeout

    @database_guarded
    async def register(self, *, email: str, password: str) -> User:
        email = normalize_email(email)
        password_hash = await self._passwords.hash(password)
        async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
            user = await users.insert_user(conn, email=email, password_hash=password_hash)
        if user is None:
            raise EmailTaken()
        log.info("user registered user_id=%s", user.id)
        return user

    @database_guarded
    async def authenticate(self, *, email: str, password: str) -> User:
        """The user with these credentials; an unknown email and a wrong password look alike."""
        user = None
        try:
            name = normalize_email(email)
        except ValueError:
            name = None  # no account can have it, but it costs a hash all the same
        if name is not None:
            async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                user = await users.find_by_email(conn, email=name)
        known_hash = user.password_hash if user else None
        if not await self._passwords.verify(known_hash, password) or user is None:
            raise InvalidCredentials()
        return user
