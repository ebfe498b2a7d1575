"""Settings for tests: the real local servers, a test database (TEST_DATABASE_URL, one per
worker under `pytest -n`), no .env file; a secret key start-up accepts, for tests that build
settings of their own; and the brokers' URLs for tests that talk to RabbitMQ or Celery's
Redis themselves; the environment the tests of reading settings start from."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from service.settings import ConfigError, Settings, load_settings

# Random, as start-up demands (service/settings/secret_key.py); for tests only.
TEST_SECRET_KEY = "kJ4x-Qm9_TzR2vLp8WnY3bHc6dFs0gAe7uXo1NiV5rMw-Ek3jUh_ZyT8qPaOl2Dx"


def worker_dsn(dsn: str, worker: str | None) -> str:
    """`dsn`, or under `pytest -n` (xdist names its workers gw0, gw1, ...) a database of the
    worker's own beside it: the API suite empties its tables before each test."""
    if not worker:
        return dsn
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"{parts.path}_{worker}"))


TEST_DSN = worker_dsn(
    os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/orders_test"),
    os.environ.get("PYTEST_XDIST_WORKER"),
)
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"  # a database of its own on the shared Redis


def make_settings(**overrides: Any) -> Settings:
    """Settings for tests: the real local servers, a test database, no .env file."""
    values: dict[str, Any] = {
        "secret_key": TEST_SECRET_KEY,
        "database_url": TEST_DSN,
        "redis_host": "127.0.0.1",
        "rabbitmq_host": "127.0.0.1",
        "rabbitmq_password": "guest",
        "temporal_address": "127.0.0.1:7233",
        "process_order_seconds": 0,
        "service_roles": "api",
        # argon2id at its cheapest: tests register hundreds of users. Never in production
        # (the defaults are OWASP's floor); the login timing test uses the real cost.
        "password_hash_memory_kib": 8,
        "password_hash_time_cost": 1,
        # Tests make hundreds of requests from one address: rate limiting is off (the
        # credentials buckets, always on, get room), and every app has buckets of its own.
        # The rate-limit tests turn it back on.
        "rate_limit_enabled": False,
        "auth_rate_limit_capacity": 1_000_000,
        "auth_rate_limit_refill_rate": 1_000_000,
        "auth_failure_rate_limit_capacity": 1_000_000,
        "auth_failure_rate_limit_refill_rate": 1_000_000,
        # Tests make many orders per user; the cap's own tests set it.
        "max_pending_orders_per_user": 0,
        "rate_limit_key_prefix": f"ratelimit.test.{uuid.uuid4().hex}",
        # No operator listener (HTTP_PORT + 1000 would be one port for every app): the
        # tests that read it give it a free port.
        "operator_port": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def clear_settings_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No variable of any setting in the environment."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def only_required_env(
    monkeypatch: pytest.MonkeyPatch, folder: Path, *, secret_key: str | None = TEST_SECRET_KEY
) -> None:
    """Only the required variables (SECRET_KEY unless None, RABBITMQ_PASSWORD) and no .env
    file to read: the working directory is `folder`."""
    monkeypatch.chdir(folder)
    clear_settings_env(monkeypatch)
    if secret_key is not None:
        monkeypatch.setenv("SECRET_KEY", secret_key)
    monkeypatch.setenv("RABBITMQ_PASSWORD", "guest")


def refused(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    """The ConfigError start-up gives with these variables set too."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    return str(info.value)
