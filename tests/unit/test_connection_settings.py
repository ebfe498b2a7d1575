"""Redis, RabbitMQ, Celery's broker and PostgreSQL take credentials and TLS from the
settings: the URLs and client options they build, read back by each client library's own
parser (redis-py, kombu, aiormq's yarl), say what the variables say."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from kombu.utils.url import parse_url
from yarl import URL

from service.settings import Settings, load_settings
from tests.support.settings import only_required_env, refused


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    only_required_env(monkeypatch, tmp_path)


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    path = tmp_path / "ca dir" / "ca.pem"  # a space: the URLs must quote it
    path.parent.mkdir()
    path.write_text("-----BEGIN CERTIFICATE-----\n")
    return path


def _load(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def _redis_kwargs(url: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = aioredis.Redis.from_url(url).connection_pool.connection_kwargs
    return kwargs


def test_redis_defaults_to_no_auth_and_no_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _load(monkeypatch)
    assert settings.redis_url == "redis://localhost:6379/0"
    assert settings.broker_url == "redis://localhost:6379/0"
    options = settings.redis_client_options
    assert options == {"host": "localhost", "port": 6379, "db": 0}


def test_redis_password_user_and_tls_build_a_rediss_url(
    monkeypatch: pytest.MonkeyPatch, ca_file: Path
) -> None:
    settings = _load(
        monkeypatch,
        REDIS_HOST="cache.internal",
        REDIS_PORT="6380",
        REDIS_DB="2",
        REDIS_USERNAME="orders",
        REDIS_PASSWORD="p@ss:/w rd",
        REDIS_TLS="true",
        REDIS_TLS_CA_FILE=str(ca_file),
    )
    url = settings.redis_url
    assert url.startswith("rediss://orders:p%40ss%3A%2Fw%20rd@cache.internal:6380/2?")
    # redis-py reads it back as the same connection.
    kwargs = _redis_kwargs(url)
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("cache.internal", 6380, 2)
    assert (kwargs["username"], kwargs["password"]) == ("orders", "p@ss:/w rd")
    assert kwargs["ssl_cert_reqs"] == "required"
    assert kwargs["ssl_ca_certs"] == str(ca_file)
    # The cache's client is built from the same values.
    options = settings.redis_client_options
    assert options == {
        "host": "cache.internal",
        "port": 6380,
        "db": 2,
        "username": "orders",
        "password": "p@ss:/w rd",
        "ssl": True,
        "ssl_cert_reqs": "required",
        "ssl_ca_certs": str(ca_file),
    }
    client = aioredis.Redis(**options)
    assert client.connection_pool.connection_class.__name__ == "SSLConnection"


def test_celery_broker_defaults_to_the_same_redis_with_auth_and_verified_tls(
    monkeypatch: pytest.MonkeyPatch, ca_file: Path
) -> None:
    settings = _load(
        monkeypatch, REDIS_PASSWORD="s3cret", REDIS_TLS="true", REDIS_TLS_CA_FILE=str(ca_file)
    )
    broker = parse_url(settings.broker_url)  # how kombu reads Celery's broker URL
    assert broker["transport"] == "rediss"
    assert broker["password"] == "s3cret"
    assert broker["ssl"] == {"ssl_cert_reqs": ssl.CERT_REQUIRED, "ssl_ca_certs": str(ca_file)}


def test_redis_tls_without_a_ca_file_verifies_against_the_system_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _load(monkeypatch, REDIS_TLS="true", REDIS_PASSWORD="pw")
    assert settings.redis_url == "rediss://:pw@localhost:6379/0?ssl_cert_reqs=required"
    assert parse_url(settings.broker_url)["ssl"] == {"ssl_cert_reqs": ssl.CERT_REQUIRED}


def test_a_rediss_celery_broker_url_verifies_certificates_unless_it_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # kombu's own default for rediss:// without ssl_cert_reqs is CERT_NONE (no verification).
    settings = _load(monkeypatch, CELERY_BROKER_URL="rediss://:pw@broker.internal:6380/1")
    assert parse_url(settings.broker_url)["ssl"] == {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    settings = _load(
        monkeypatch, CELERY_BROKER_URL="rediss://:pw@broker.internal:6380/1?ssl_cert_reqs=optional"
    )
    assert parse_url(settings.broker_url)["ssl"] == {"ssl_cert_reqs": ssl.CERT_OPTIONAL}
    settings = _load(
        monkeypatch, CELERY_BROKER_URL="rediss://:pw@broker.internal:6380/1?ssl_ca_certs=%2Fca.pem"
    )
    assert parse_url(settings.broker_url)["ssl"] == {
        "ssl_ca_certs": "/ca.pem",
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
    }
    settings = _load(monkeypatch, CELERY_BROKER_URL="redis://:pw@broker.internal:6380/1")
    assert settings.broker_url == "redis://:pw@broker.internal:6380/1"


def test_a_missing_ca_file_is_refused_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "REDIS_TLS_CA_FILE" in refused(
        monkeypatch, REDIS_TLS="true", REDIS_TLS_CA_FILE="/nowhere/ca.pem"
    )
    assert "RABBITMQ_TLS_CA_FILE" in refused(
        monkeypatch, REDIS_TLS="false", RABBITMQ_TLS="true", RABBITMQ_TLS_CA_FILE="/nowhere/ca.pem"
    )


def test_rabbitmq_defaults_to_amqp_on_5672(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _load(monkeypatch).rabbitmq_url == "amqp://guest:guest@localhost:5672/%2F"


def test_rabbitmq_tls_builds_an_amqps_url_on_5671_with_the_ca(
    monkeypatch: pytest.MonkeyPatch, ca_file: Path
) -> None:
    settings = _load(
        monkeypatch,
        RABBITMQ_HOST="mq.internal",
        RABBITMQ_USER="orders",
        RABBITMQ_PASSWORD="p@ss/word",
        RABBITMQ_VHOST="orders",
        RABBITMQ_TLS="true",
        RABBITMQ_TLS_CA_FILE=str(ca_file),
    )
    url = URL(settings.rabbitmq_url)  # how aio-pika and aiormq read it
    assert url.scheme == "amqps"
    assert (url.host, url.port) == ("mq.internal", 5671)
    assert (url.user, url.password) == ("orders", "p@ss/word")
    assert url.path == "/orders"
    assert url.query["cafile"] == str(ca_file)


def test_an_explicit_rabbitmq_port_wins_with_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _load(monkeypatch, RABBITMQ_TLS="true", RABBITMQ_PORT="15671")
    assert settings.rabbitmq_url == "amqps://guest:guest@localhost:15671/%2F"


def test_postgres_sslmode_joins_the_url_built_from_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _load(monkeypatch, POSTGRES_HOST="db.internal", POSTGRES_SSLMODE="verify-full")
    assert settings.dsn == "postgresql://postgres@db.internal:5432/orders?sslmode=verify-full"
    assert "POSTGRES_SSLMODE" in refused(monkeypatch, POSTGRES_SSLMODE="sometimes")


def test_database_url_keeps_its_ssl_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://u:p@db.internal:5432/orders?sslmode=verify-full&sslrootcert=/etc/ca.pem"
    assert _load(monkeypatch, DATABASE_URL=url).dsn == url
