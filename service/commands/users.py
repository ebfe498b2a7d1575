"""`orders user create`: an account made by an operator (the password is read from stdin)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from core.errors import EmailTaken
from service.commands.output import add_json_flag, emit
from service.settings import Settings

if TYPE_CHECKING:  # imported when the command runs: `orders celery` loads none of the API
    from store.users import User


def register(sub: Any) -> None:
    user = sub.add_parser("user", help="accounts").add_subparsers(
        dest="user_command", required=True
    )
    create = user.add_parser("create", help="register an account")
    create.add_argument("email")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin, not a prompt"
    )
    add_json_flag(create)
    create.set_defaults(run=create_command)


async def _create(settings: Settings, email: str, password: str) -> User:
    from service.app import passwords
    from store.db import create_pool
    from usecases.accounts import Accounts

    pool = await create_pool(settings.dsn, min_size=1, max_size=1)
    try:
        return await Accounts(pool, passwords(settings)).register(email=email, password=password)
    finally:
        await pool.close()


def create_command(settings: Settings, args: argparse.Namespace) -> None:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
    from api.schemas.accounts import RegisterIn

    try:
        body = RegisterIn(email=args.email, password=password)
        user = asyncio.run(_create(settings, body.email, body.password))
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SystemExit(f"not created: {reasons}") from None
    except EmailTaken:
        raise SystemExit("not created: email already registered") from None
    emit(args, {"id": user.id, "email": user.email}, lambda d: [f"user {d['id']} {d['email']}"])
