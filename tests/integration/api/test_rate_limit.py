"""Rate limiting: a token bucket per client in Redis (in-process while Redis fails),
stricter buckets for credentials, 429 with Retry-After and the IETF RateLimit headers."""

from __future__ import annotations

from typing import Any

from service.settings import Settings
from tests.support.api_client import (
    PASSWORD,
    SLOW,
    Client,
    MakeClient,
    limited,
    random_email,
    register,
)
from tests.support.faults import closed_port


async def _statuses(client: Client, n: int, path: str = "/orders/user/1/", **kw: Any) -> list[int]:
    return [(await client.get(path, **kw)).status for _ in range(n)]


def test_rate_limiting_is_on_by_default_with_the_contract_numbers() -> None:
    fields = Settings.model_fields
    assert fields["rate_limit_enabled"].default is True
    assert fields["rate_limit_capacity"].default == 100
    assert fields["rate_limit_refill_rate"].default == 50


async def test_over_the_limit_is_429_with_retry_after_and_ratelimit_headers(
    make_client: MakeClient,
) -> None:
    client = await make_client(**limited())
    statuses = await _statuses(client, 5)
    assert 429 not in statuses
    resp = await client.get("/orders/user/1/")
    assert resp.status == 429
    assert await resp.json() == {"detail": "rate limit exceeded"}
    assert int(resp.headers["Retry-After"]) >= 1
    assert resp.headers["RateLimit-Policy"] == '"default";q=5;w=5000'
    assert resp.headers["RateLimit"].startswith('"default";r=0;t=')


async def test_counted_responses_say_what_is_left(make_client: MakeClient) -> None:
    client = await make_client(**limited())
    resp = await client.get("/orders/user/1/")
    assert resp.status == 401
    assert resp.headers["RateLimit"].startswith('"default";r=4;')
    assert "Retry-After" not in resp.headers


async def test_each_user_has_a_bucket_of_their_own(make_client: MakeClient) -> None:
    client = await make_client(**limited(rate_limit_capacity=4))
    alice, bob = await register(client), await register(client)  # 4 requests by address
    assert 429 in await _statuses(client, 2), "the address's bucket is empty"
    for user in (alice, bob):
        path = f"/orders/user/{user.id}/"
        assert await _statuses(client, 4, path, headers=user.headers) == [200] * 4
        assert (await client.get(path, headers=user.headers)).status == 429


async def test_exempt_routes_and_preflights_are_not_counted(make_client: MakeClient) -> None:
    client = await make_client(**limited(cors_allow_origins="http://app.example"))
    preflight = {
        "Origin": "http://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type",
    }
    for _ in range(10):
        for path in ("/health", "/ready", "/docs", "/openapi.json", "/docs/static/swagger-ui.css"):
            resp = await client.get(path)
            assert resp.status != 429, path
            assert "RateLimit" not in resp.headers, path
        assert (await client.options("/orders/", headers=preflight)).status == 200
    assert await _statuses(client, 6) == [401] * 5 + [429]


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(make_client: MakeClient) -> None:
    client = await make_client(**limited())
    statuses = [
        (await client.get("/orders/user/1/", headers={"X-Forwarded-For": f"10.0.0.{i}"})).status
        for i in range(6)
    ]
    assert statuses[-1] == 429, "a spoofed X-Forwarded-For must not buy a fresh bucket"


async def test_forwarded_for_names_the_client_behind_a_trusted_proxy(
    make_client: MakeClient,
) -> None:
    client = await make_client(**limited(trusted_proxies="127.0.0.1/32,10.9.0.0/16"))
    first = {"X-Forwarded-For": "203.0.113.7"}
    assert await _statuses(client, 5, headers=first) == [401] * 5
    assert (await client.get("/orders/user/1/", headers=first)).status == 429
    # The nearest untrusted hop counts: the client cannot prepend its way to a new bucket.
    second = {"X-Forwarded-For": "198.51.100.1, 203.0.113.8, 10.9.0.1"}
    assert await _statuses(client, 5, headers=second) == [401] * 5
    assert (await client.get("/orders/user/1/", headers=second)).status == 429


async def test_replicas_share_one_bucket_through_redis(make_client: MakeClient) -> None:
    settings = limited()
    one, two = await make_client(**settings), await make_client(**settings)
    assert await _statuses(one, 3) == [401] * 3
    assert await _statuses(two, 2) == [401] * 2
    assert (await two.get("/orders/user/1/")).status == 429
    assert (await one.get("/orders/user/1/")).status == 429


async def test_with_redis_down_the_limit_still_holds_in_process(make_client: MakeClient) -> None:
    client = await make_client(**limited(redis_port=closed_port()))
    statuses = await _statuses(client, 8)
    assert statuses == [401] * 5 + [429] * 3, "never a 500, never unlimited"


async def test_token_has_strict_buckets_even_with_limiting_off(make_client: MakeClient) -> None:
    client = await make_client(
        **limited(rate_limit_enabled=False, auth_rate_limit_capacity=3),
    )
    email = random_email()
    assert (await client.post("/register/", json={"email": email, "password": PASSWORD})).ok
    form = {"username": email, "password": "wrong password"}
    statuses = [(await client.post("/token/", data=form)).status for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    resp = await client.post("/token/", data=form)
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) >= 1
    assert "credentials" not in resp.headers["RateLimit-Policy"]
    assert resp.headers["RateLimit-Policy"].startswith('"token-')


async def test_failed_logins_are_limited_per_account_across_addresses(
    make_client: MakeClient,
) -> None:
    client = await make_client(
        **limited(
            rate_limit_enabled=False,
            auth_failure_rate_limit_capacity=3,
            auth_failure_rate_limit_refill_rate=SLOW,
            trusted_proxies="127.0.0.1",
        )
    )
    email = random_email()
    resp = await client.post("/register/", json={"email": email, "password": PASSWORD})
    assert resp.status == 201
    form = {"username": email.upper(), "password": "wrong password"}
    statuses = [
        (
            await client.post("/token/", data=form, headers={"X-Forwarded-For": f"192.0.2.{i}"})
        ).status
        for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429], "one account, any address, any spelling"
    resp = await client.post("/token/", data=form, headers={"X-Forwarded-For": "192.0.2.99"})
    assert resp.headers["RateLimit-Policy"].startswith('"token-account"')


async def test_credentials_are_limited_per_address_across_accounts(
    make_client: MakeClient,
) -> None:
    client = await make_client(**limited(rate_limit_enabled=False, auth_rate_limit_capacity=3))
    statuses = [
        (
            await client.post("/register/", json={"email": random_email(), "password": PASSWORD})
        ).status
        for _ in range(4)
    ]
    assert statuses == [201, 201, 201, 429]
    resp = await client.post("/register/", json={"email": random_email(), "password": PASSWORD})
    assert resp.status == 429
    assert resp.headers["RateLimit-Policy"].startswith('"register-address"')
