"""A Redis that demands a password and speaks TLS only (a `redis-server` of the test's own):
the order cache, the rate limiter's buckets and Celery's broker reach it through the
REDIS_PASSWORD / REDIS_TLS / REDIS_TLS_CA_FILE settings, and the server's certificate is
really checked."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import redis.asyncio as aioredis

from core.events import NewOrderEvent
from processing.dispatch import CeleryDispatch
from service import celery_config
from tests.support.api_client import MakeClient, create_order, register
from tests.support.events import envelope
from tests.support.redis_server import PrivateRedis, private_redis
from tests.support.settings import make_settings
from tests.support.tls import make_certificates

PASSWORD = "a-password-for-this-test-only"


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    directory = tmp_path_factory.mktemp("tls-redis")
    with private_redis(directory, PASSWORD, make_certificates(directory)) as server:
        yield server


def _settings(server: PrivateRedis, **overrides: Any) -> dict[str, Any]:
    assert server.certificates is not None
    values: dict[str, Any] = {
        "redis_host": "127.0.0.1",
        "redis_port": server.port,
        "redis_password": server.password,
        "redis_tls": True,
        "redis_tls_ca_file": str(server.certificates.ca),
    }
    return {**values, **overrides}


@pytest.fixture
async def direct(tls_redis: PrivateRedis) -> AsyncIterator[aioredis.Redis]:
    """The test's own look into the private Redis."""
    assert tls_redis.certificates is not None
    client = aioredis.Redis(
        host="127.0.0.1",
        port=tls_redis.port,
        password=PASSWORD,
        ssl=True,
        ssl_ca_certs=str(tls_redis.certificates.ca),
    )
    yield client
    await client.aclose()


async def _redis_state(make_client: MakeClient, temporal_address: str, **settings: Any) -> str:
    client = await make_client(temporal_address=temporal_address, **settings)
    body = await (await client.get("/ready")).json()
    state: str = body["checks"]["redis"]
    return state


async def test_the_cache_and_the_buckets_use_a_redis_with_a_password_over_tls(
    make_client: MakeClient,
    temporal_address: str,
    tls_redis: PrivateRedis,
    direct: aioredis.Redis,
) -> None:
    prefix = f"ratelimit.test.{uuid.uuid4().hex}"
    settings = _settings(tls_redis, rate_limit_enabled=True, rate_limit_key_prefix=prefix)
    assert await _redis_state(make_client, temporal_address, **settings) == "ok"
    client = await make_client(**settings)
    user = await register(client)
    order = await create_order(client, user)
    resp = await client.get(f"/orders/{order['id']}/", headers=user.headers)
    assert resp.status == 200
    assert await direct.exists(f"order:{order['id']}") == 1
    assert [key async for key in direct.scan_iter(match=f"{prefix}*")], "no bucket in this Redis"


@pytest.mark.parametrize(
    "wrong",
    [
        {"redis_password": "not-the-password"},
        {"redis_password": None},
        {"redis_tls": False},  # plain text to a TLS port
        {"redis_tls_ca_file": None},  # the system's CAs do not know the test's CA
    ],
    ids=["wrong-password", "no-password", "no-tls", "untrusted-certificate"],
)
async def test_wrong_credentials_or_an_unverified_certificate_leave_the_cache_down(
    make_client: MakeClient, temporal_address: str, tls_redis: PrivateRedis, wrong: dict[str, Any]
) -> None:
    settings = _settings(tls_redis, **wrong)
    assert await _redis_state(make_client, temporal_address, **settings) == "down"


async def test_celery_sends_tasks_to_a_broker_with_a_password_over_tls(
    tls_redis: PrivateRedis, direct: aioredis.Redis
) -> None:
    queue = f"orders.test.{uuid.uuid4().hex[:12]}"
    settings = make_settings(**_settings(tls_redis), celery_queue=queue)
    assert settings.broker_url.startswith("rediss://")  # no CELERY_BROKER_URL: the cache's Redis
    event = NewOrderEvent(7, (), Decimal("1.00"), datetime.now(tz=UTC))
    celery = celery_config.celery(settings, tasks=False)
    try:
        await CeleryDispatch(celery, timeout_seconds=10).submit(envelope(event))
    finally:
        celery.close()
    assert await direct.llen(queue) == 1
