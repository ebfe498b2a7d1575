"""The `orders` command run as an operator runs it, against the test's servers: this venv's
command, an environment made of the test's settings (no .env: it runs from this folder,
which has none)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from pathlib import Path

from service.settings import Settings

BIN = Path(sys.executable).parent


def orders_env(settings: Settings, temporal_address: str) -> dict[str, str]:
    return {
        "PATH": str(BIN),
        "SECRET_KEY": settings.secret_key.get_secret_value(),
        "RABBITMQ_PASSWORD": "guest",
        "TEMPORAL_ADDRESS": temporal_address,
    }


async def run_orders(env: Mapping[str, str], *argv: str) -> tuple[int | None, str, str]:
    """`orders <argv>`: its exit code, standard output and standard error."""
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "orders"),
        *argv,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parent,
    )
    output, errors = await proc.communicate()
    return proc.returncode, output.decode(), errors.decode()
