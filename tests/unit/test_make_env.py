"""`make run` writes .env from .env.example: a fresh SECRET_KEY, readable by its owner only."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from service.settings import EXAMPLE_SECRET_KEY, Settings
from tests.support.settings import clear_settings_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_env_writes_a_private_file_with_a_fresh_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clear_settings_env(monkeypatch)  # the file alone speaks
    shutil.copy(ROOT / "Makefile", tmp_path)
    shutil.copy(ROOT / ".env.example", tmp_path)
    subprocess.run(
        ["make", "-s", ".env", f"PYTHON={sys.executable}"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    env = tmp_path / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    text = env.read_text()
    assert EXAMPLE_SECRET_KEY not in text
    assert EXAMPLE_SECRET_KEY in (tmp_path / ".env.example").read_text()
    [secret] = [line[11:] for line in text.splitlines() if line.startswith("SECRET_KEY=")]
    assert len(secret) >= 48
    # The fresh key passes the start-up checks, and so does every other line of the file.
    settings = Settings(_env_file=env)
    assert settings.secret_key.get_secret_value() == secret
    assert settings.redis_url == "redis://127.0.0.1:6379/0"  # empty REDIS_PASSWORD: none
    assert settings.rabbitmq_url == "amqp://guest:guest@127.0.0.1:5672/%2F"
    assert (settings.operator_host, settings.operator_listen_port) == ("127.0.0.1", 9000)
