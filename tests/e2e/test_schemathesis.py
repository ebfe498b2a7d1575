"""schemathesis against the running service's /openapi.json: every check, every phase
(stateful included, through the document's links), authenticated. Zero failures.

The budget (examples per operation, stateful steps, a fixed seed) is in
`schemathesis.toml`, with the reason for every check that is configured; it keeps the
run near a minute.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.support.api import ApiUser
from tests.support.stack import Stack

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")

pytestmark = pytest.mark.slow


def _config(tmp: Path, user_id: int) -> Path:
    """The committed configuration, plus: half the list requests name the user's own id
    (any other id is a 403, and the stateful phase needs a way in)."""
    own = f"""
[dictionaries.own_user]
values = [{user_id}]

[[operations]]
include-operation-id = "list_user_orders"
parameters = {{ "path.user_id" = {{ dictionary = "own_user", probability = 0.5 }} }}
"""
    path = tmp / "schemathesis.toml"
    path.write_text((HERE / "schemathesis.toml").read_text() + own)
    return path


async def test_schemathesis_finds_nothing(stack: Stack, http: aiohttp.ClientSession) -> None:
    stack.overrides.update(
        AUTH_RATE_LIMIT_CAPACITY="1000000",  # it logs in thousands of times
        AUTH_RATE_LIMIT_REFILL_RATE="1000000",
        AUTH_FAILURE_RATE_LIMIT_CAPACITY="1000000",  # most of them fail
        AUTH_FAILURE_RATE_LIMIT_REFILL_RATE="1000000",
        PASSWORD_HASH_MEMORY_KIB="8",
        PASSWORD_HASH_TIME_COST="1",
        LOG_LEVEL="WARNING",
    )
    proc = stack.start_service()
    user = await ApiUser(http, stack.base_url).sign_up()
    report = stack.tmp / "schemathesis.log"
    with report.open("wb") as out:
        result = await asyncio.to_thread(
            subprocess.run,
            [
                str(SCHEMATHESIS),
                "--config-file",
                str(_config(stack.tmp, user.user_id)),
                "run",
                f"{stack.base_url}/openapi.json",
                "--checks",
                "all",
                "--header",
                f"Authorization: Bearer {user.token}",
                "--no-color",
            ],
            cwd=stack.tmp,  # its cache and reports stay out of the checkout
            env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=240,
            check=False,
        )
    output = report.read_text(errors="replace")
    assert result.returncode == 0, output[-6000:]
    assert "Stateful" in output
    # No 500 was logged (aiohttp's own parser answers malformed HTTP with 400, logged apart).
    assert "unhandled error" not in proc.output(), proc.output()[-4000:]
