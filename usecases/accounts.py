"""Registering users and checking their credentials."""

from __future__ import annotations

import logging

import asyncpg

from core.errors import EmailTaken, InvalidCredentials
from store import users
from store.users import User
from usecases.guard import database_guarded
from usecases.passwords import Passwords

log = logging.getLogger(__name__)


class Accounts:
    def __init__(self, pool: asyncpg.Pool, passwords: Passwords) -> None:
        self._pool = pool
        self._passwords = passwords

    @database_guarded
    async def register(self, *, email: str, password: str) -> User:
        password_hash = await self._passwords.hash(password)
        user = await users.insert_user(self._pool, email=email, password_hash=password_hash)
        if user is None:
            raise EmailTaken()
        log.info("user registered user_id=%s", user.id)
        return user

    @database_guarded
    async def authenticate(self, *, email: str, password: str) -> User:
        """The user with these credentials; an unknown email and a wrong password look alike."""
        user = await users.find_by_email(self._pool, email=email)
        known_hash = user.password_hash if user else None
        if not await self._passwords.verify(known_hash, password) or user is None:
            raise InvalidCredentials()
        return user
