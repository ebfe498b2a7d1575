"""Registering users and checking their credentials."""

from __future__ import annotations

import logging

from core.errors import EmailTaken, InvalidCredentials
from store import users
from store.db import Executor
from store.users import User
from usecases.passwords import Passwords

log = logging.getLogger(__name__)


async def register(db: Executor, passwords: Passwords, *, email: str, password: str) -> User:
    password_hash = await passwords.hash(password)
    user = await users.insert_user(db, email=email, password_hash=password_hash)
    if user is None:
        raise EmailTaken()
    log.info("user registered user_id=%s", user.id)
    return user


async def authenticate(db: Executor, passwords: Passwords, *, email: str, password: str) -> User:
    """The user with these credentials; an unknown email and a wrong password look alike."""
    user = await users.find_by_email(db, email=email)
    if not await passwords.verify(user.password_hash if user else None, password) or user is None:
        raise InvalidCredentials()
    return user
