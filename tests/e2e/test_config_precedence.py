"""`make run`'s process layout: a variable exported in the environment wins over `.env`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import aiohttp

from tests.support.faults import free_port
from tests.support.processes import Process, wait_http_ok
from tests.support.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
EXPORTED_ORIGIN = "http://example.com"
DOTENV_ORIGIN = "http://from-dotenv.example"


async def _preflight(http: aiohttp.ClientSession, base_url: str, origin: str) -> int:
    headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    async with http.options(f"{base_url}/orders/", headers=headers) as resp:
        return resp.status


async def test_an_exported_variable_beats_the_dotenv_file(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    env = stack.env()
    dotenv = stack.tmp / "run.env"
    # The .env says otherwise for both variables; every other value comes from both alike.
    lines = {**env, "CORS_ALLOW_ORIGINS": DOTENV_ORIGIN, "HTTP_PORT": str(free_port())}
    dotenv.write_text("".join(f"{k}={v}\n" for k, v in lines.items() if k != "PATH"))
    exported = {
        **env,
        "CORS_ALLOW_ORIGINS": EXPORTED_ORIGIN,
        "PIPELINE_HTTP_PORT": str(free_port()),
        "RUN_STATE_DIR": str(stack.tmp / "run-state"),
    }
    make = ["make", "-s", "-C", str(ROOT), "run-stack", f"ENV_FILE={dotenv}"]
    proc = Process("make-run", make, exported, stack.tmp).start()
    stack.processes.append(proc)
    try:
        # The exported HTTP_PORT is where the service answers, not the .env's.
        wait_http_ok(f"{stack.base_url}/health", deadline_s=90, proc=proc)
        assert await _preflight(http, stack.base_url, EXPORTED_ORIGIN) == 200
        assert await _preflight(http, stack.base_url, DOTENV_ORIGIN) == 403
    finally:
        proc.stop()
    output = proc.output()
    for name in ("temporal", "api", "pipeline", "celery"):  # the whole layout ran
        assert f"spawned: '{name}'" in output, name


def test_make_run_and_run_stack_share_one_command() -> None:
    recipe = subprocess.run(
        ["make", "-n", "-s", "-C", str(ROOT), "run-stack"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "dotenv -f .env run --no-override" in recipe
    assert "supervisord -n -c run/supervisord.conf" in recipe
