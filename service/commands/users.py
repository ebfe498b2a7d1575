"""`orders user create`: an account made by an operator.

The password comes from the first line of stdin (`--password-stdin`, for scripts) or from a
prompt on the terminal, asked twice, never echoed. With neither (no terminal, as under cron
or a pipeline, and no `--password-stdin`), or with nothing to read, it says so and exits
with status 2, as a usage error; it never shows a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from pydantic import ValidationError

from core.errors import EmailTaken
from service.commands.failures import POSTGRESQL, server_errors
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
        "--password-stdin",
        action="store_true",
        help="read the password from stdin's first line, not a prompt on the terminal",
    )
    add_json_flag(create)
    create.set_defaults(run=create_command)


async def _create(settings: Settings, email: str, password: str) -> User:
    from service.app import passwords
    from store.db import create_pool
    from usecases.accounts import Accounts

    pool = await create_pool(settings.dsn, min_size=1, max_size=1)
    try:
        accounts = Accounts(
            pool, passwords(settings), acquire_timeout=settings.db_acquire_timeout_seconds
        )
        return await accounts.register(email=email, password=password)
    finally:
        await pool.close()


USAGE = 2  # the exit status of a command that cannot run as given (argparse's too)


def _refuse(message: str) -> NoReturn:
    sys.stderr.write(f"orders user create: {message}\n")
    raise SystemExit(USAGE)


def _has_terminal() -> bool:
    """Whether a prompt can be shown and answered: a controlling terminal, or a stdin
    that is one (what getpass reads from, in that order)."""
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return sys.stdin is not None and sys.stdin.isatty()
    return True


def read_password(from_stdin: bool) -> str:
    """The password: stdin's first line, or a prompt answered twice the same."""
    if from_stdin:
        line = sys.stdin.readline() if sys.stdin is not None else ""
        if not line.strip("\r\n"):
            _refuse("no password on stdin (--password-stdin reads its first line)")
        return line.rstrip("\r\n")
    if not _has_terminal():
        _refuse(
            "no terminal to ask for the password on: give it on stdin with --password-stdin"
            " (printf '%s\\n' \"$PASSWORD\" | orders user create EMAIL --password-stdin)"
        )
    try:
        password = getpass.getpass("password: ")
        again = getpass.getpass("password (again): ")
    except EOFError:
        _refuse("no password given")
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        raise SystemExit(130) from None
    if password != again:
        _refuse("the two passwords differ; nothing created")
    return password


def create_command(settings: Settings, args: argparse.Namespace) -> None:
    password = read_password(args.password_stdin)
    from api.schemas.accounts import RegisterIn

    try:
        body = RegisterIn(email=args.email, password=password)
        with server_errors("user create", POSTGRESQL):
            user = asyncio.run(_create(settings, body.email, body.password))
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SystemExit(f"not created: {reasons}") from None
    except EmailTaken:
        raise SystemExit("not created: email already registered") from None
    emit(args, {"id": user.id, "email": user.email}, lambda d: [f"user {d['id']} {d['email']}"])
