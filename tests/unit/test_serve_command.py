"""`orders serve`: where its two listeners bind, as `make run` starts the API and the
pipeline (`--roles ... --port 8001`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from service import http_server
from service.commands import serve
from service.settings import Settings
from tests.support.settings import TEST_SECRET_KEY as SECRET
from tests.support.settings import clear_settings_env


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    """Where `service.http_server` was asked to serve, and the app's settings; nothing
    listens (it binds the settings' listen host and HTTP port)."""
    monkeypatch.chdir(tmp_path)
    clear_settings_env(monkeypatch)  # only what each test says
    seen: dict[str, Any] = {}

    def run(app: web.Application, settings: Settings) -> None:
        from service.keys import SETTINGS

        assert app[SETTINGS] is settings
        seen.update(host=settings.listen_host, port=settings.http_port, settings=settings)

    monkeypatch.setattr(http_server, "run", run)
    monkeypatch.setattr(serve, "_install_uvloop", lambda: None)
    return seen


def _serve(started: dict[str, Any], *argv: str, **env: Any) -> Settings:
    parser = argparse.ArgumentParser()
    serve.register(parser.add_subparsers())
    args = parser.parse_args(["serve", *argv])
    settings = Settings(_env_file=None, secret_key=SECRET, rabbitmq_password="guest", **env)
    serve.run(settings, args)
    resolved: Settings = started["settings"]
    return resolved


def test_the_api_listens_everywhere_and_its_operator_listener_on_loopback(
    started: dict[str, Any],
) -> None:
    settings = _serve(started, "--roles", "api")
    assert (started["host"], started["port"]) == ("0.0.0.0", 8000)
    assert (settings.operator_host, settings.operator_listen_port) == ("127.0.0.1", 9000)


def test_the_pipeline_listens_on_loopback_unless_configured(started: dict[str, Any]) -> None:
    settings = _serve(started, "--roles", "worker,relay,consumer", "--port", "8001")
    assert (started["host"], started["port"]) == ("127.0.0.1", 8001)
    assert settings.operator_listen_port == 9001
    _serve(started, "--roles", "worker", "--port", "8001", http_host="10.0.0.5")
    assert started["host"] == "10.0.0.5"


def test_operator_port_flag(started: dict[str, Any]) -> None:
    assert _serve(started, "--operator-port", "19000").operator_listen_port == 19000
    assert _serve(started, "--operator-port", "0").operator_listen_port is None
