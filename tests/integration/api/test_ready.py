"""GET /health and GET /ready: dependencies' state, 503 without PostgreSQL or Temporal."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

from tests.support.api_client import ITEMS, Client, MakeClient, create_order, register
from tests.support.faults import closed_port, hung_server, tcp_proxy
from tests.support.settings import TEST_DSN
from tests.support.waiting import eventually


async def test_health_is_ok_on_both_paths(client: Client) -> None:
    for path in ("/health", "/health/"):
        resp = await client.get(path)
        assert resp.status == 200
        assert await resp.json() == {"status": "ok"}


async def test_ready_with_everything_up(make_client: MakeClient, temporal_address: str) -> None:
    client = await make_client(temporal_address=temporal_address)
    for path in ("/ready", "/ready/"):
        resp = await client.get(path)
        assert resp.status == 200
        assert await resp.json() == {
            "status": "ok",
            "checks": {"postgres": "ok", "redis": "ok", "temporal": "ok", "temporal_setup": "ok"},
        }


async def test_ready_with_redis_down_is_degraded_200(
    make_client: MakeClient, temporal_address: str
) -> None:
    client = await make_client(temporal_address=temporal_address, redis_port=closed_port())
    resp = await client.get("/ready")
    assert resp.status == 200
    assert await resp.json() == {
        "status": "degraded",
        "checks": {"postgres": "ok", "redis": "down", "temporal": "ok", "temporal_setup": "ok"},
    }


async def test_ready_with_temporal_down_is_503(make_client: MakeClient) -> None:
    client = await make_client(temporal_address=f"127.0.0.1:{closed_port()}")
    resp = await client.get("/ready")
    assert resp.status == 503
    body = await resp.json()
    # Its namespace cannot be checked either: not known to be set up.
    assert body == {
        "status": "down",
        "checks": {"postgres": "ok", "redis": "ok", "temporal": "down", "temporal_setup": "down"},
        "detail": "not ready: temporal, temporal_setup down",
    }


async def test_ready_with_temporal_hung_is_503_within_the_timeout(make_client: MakeClient) -> None:
    async with hung_server() as port:
        client = await make_client(temporal_address=f"127.0.0.1:{port}")
        started = time.monotonic()
        resp = await client.get("/ready")
        assert resp.status == 503
        assert (await resp.json())["checks"]["temporal"] == "down"
        assert time.monotonic() - started < 4.0


async def test_ready_with_postgres_cut_is_503(
    make_client: MakeClient, temporal_address: str
) -> None:
    parts = urlsplit(TEST_DSN)
    with tcp_proxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        userinfo = parts.netloc.rpartition("@")[0]
        dsn = urlunsplit(parts._replace(netloc=f"{userinfo}@127.0.0.1:{proxy.port}"))
        client = await make_client(database_url=dsn, temporal_address=temporal_address)
        assert (await client.get("/ready")).status == 200
        proxy.cut()

        async def not_ready() -> dict[str, object] | None:
            resp = await client.get("/ready")  # the last report serves for about a second
            return await resp.json() if resp.status == 503 else None

        assert await eventually(not_ready, what="503 once the cache expired", deadline_s=5) == {
            "status": "down",
            "checks": {
                "postgres": "down",
                "redis": "ok",
                "temporal": "ok",
                "temporal_setup": "ok",
            },
            "detail": "not ready: postgres down",
        }
        await client.close()


async def test_requests_while_postgres_is_cut_get_503_then_recover(
    make_client: MakeClient,
) -> None:
    parts = urlsplit(TEST_DSN)
    with tcp_proxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        userinfo = parts.netloc.rpartition("@")[0]
        dsn = urlunsplit(parts._replace(netloc=f"{userinfo}@127.0.0.1:{proxy.port}"))
        client = await make_client(database_url=dsn)
        user = await register(client)
        order = await create_order(client, user)
        proxy.cut()
        resp = await client.post("/orders/", json={"items": ITEMS}, headers=user.headers)
        assert resp.status == 503
        assert resp.headers["Retry-After"] == "1"
        assert await resp.json() == {"detail": "service unavailable: database unreachable"}
        # A cached order is still served while PostgreSQL is away.
        resp = await client.get(f"/orders/{order['id']}/", headers=user.headers)
        assert resp.status == 200
        proxy.restore()
        resp = await client.post("/orders/", json={"items": ITEMS}, headers=user.headers)
        assert resp.status == 201
        await client.close()
