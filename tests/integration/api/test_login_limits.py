"""No lockout by strangers: /token/'s buckets, as an attacker and an owner meet them.

The strict bucket is keyed by account and address together; the looser ones, per account
and per address, count failures only and spare an address the account logged in from
before; a successful login takes no token and resets nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.support.api_client import PASSWORD, SLOW, Client, MakeClient, limited, random_email

OWNER_ADDRESS = "203.0.113.5"
ATTACKER = "198.51.100.66"


def behind_proxy(**overrides: Any) -> dict[str, Any]:
    """/token/'s limits as in production (general limiting off), clients told apart by
    address as behind a proxy."""
    values = {"auth_rate_limit_capacity": 10, **overrides}
    return limited(rate_limit_enabled=False, trusted_proxies="127.0.0.1/32", **values)


def few_failures(capacity: int = 3) -> dict[str, Any]:
    """The looser failure buckets made small, and kept empty once emptied."""
    return {
        "auth_failure_rate_limit_capacity": capacity,
        "auth_failure_rate_limit_refill_rate": SLOW,
    }


def spellings(email: str) -> list[str]:
    return [email.upper(), email, email.title(), f"  {email.swapcase()}  "]


async def _login(client: Client, username: str, password: str, address: str) -> Any:
    return await client.post(
        "/token/",
        data={"username": username, "password": password},
        headers={"X-Forwarded-For": address},
    )


async def _owner(client: Client) -> str:
    email = random_email()
    resp = await client.post("/register/", json={"email": email, "password": PASSWORD})
    assert resp.status == 201, await resp.text()
    return email


async def _guesses(client: Client, email: str, n: int, address: str = ATTACKER) -> list[int]:
    names = spellings(email)
    return [
        (await _login(client, names[i % len(names)], f"guess {i}", address)).status
        for i in range(n)
    ]


async def test_a_stranger_guessing_does_not_lock_the_owner_out(make_client: MakeClient) -> None:
    client = await make_client(**behind_proxy())
    email = await _owner(client)
    statuses = await _guesses(client, email, 15)
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429] * 5, "the guesser meets 429 at the 11th guess"
    resp = await _login(client, email, PASSWORD, OWNER_ADDRESS)
    assert resp.status == 200, "the owner, from their own address, is not locked out"


async def test_a_successful_login_takes_no_token(make_client: MakeClient) -> None:
    client = await make_client(**behind_proxy(auth_rate_limit_capacity=3))
    email = await _owner(client)
    for _ in range(8):
        assert (await _login(client, email, PASSWORD, OWNER_ADDRESS)).status == 200
    assert await _guesses(client, email, 4, OWNER_ADDRESS) == [401, 401, 401, 429]


async def test_successes_reset_nothing_a_guesser_can_use(make_client: MakeClient) -> None:
    """Logging in to an account of one's own between guesses buys no guess."""
    client = await make_client(**behind_proxy(auth_rate_limit_capacity=3))
    victim, own = await _owner(client), await _owner(client)
    statuses = []
    for i in range(5):
        assert (await _login(client, own, PASSWORD, ATTACKER)).status == 200
        statuses.append((await _login(client, victim, f"guess {i}", ATTACKER)).status)
    assert statuses == [401, 401, 401, 429, 429]


async def test_failures_from_many_addresses_meet_the_account_bucket(
    make_client: MakeClient,
) -> None:
    client = await make_client(**behind_proxy(**few_failures()))
    email = await _owner(client)
    statuses = [(await _login(client, email, "wrong", f"192.0.2.{i}")).status for i in range(4)]
    assert statuses == [401, 401, 401, 429], "one account, any address"
    resp = await _login(client, email, "wrong", "192.0.2.99")
    assert resp.headers["RateLimit-Policy"].startswith('"token-account"')


async def test_the_owner_logs_in_from_their_own_address_while_many_guess(
    make_client: MakeClient,
) -> None:
    client = await make_client(**behind_proxy(**few_failures()))
    email = await _owner(client)
    assert (await _login(client, email, PASSWORD, OWNER_ADDRESS)).status == 200
    for i in range(6):
        await _login(client, email, "wrong", f"192.0.2.{i}")
    new_address = await _login(client, email, PASSWORD, "192.0.2.200")
    assert new_address.status == 429, "the account's failure bucket is empty"
    for _ in range(3):
        resp = await _login(client, email, PASSWORD, OWNER_ADDRESS)
        assert resp.status == 200, "an address the owner logged in from is spared"


async def test_one_address_guessing_many_accounts_meets_the_address_bucket(
    make_client: MakeClient,
) -> None:
    client = await make_client(**behind_proxy(**few_failures()))
    statuses = [(await _login(client, random_email(), "wrong", ATTACKER)).status for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    resp = await _login(client, random_email(), "wrong", ATTACKER)
    assert resp.headers["RateLimit-Policy"].startswith('"token-address"')
    assert (await _login(client, random_email(), "wrong", OWNER_ADDRESS)).status == 401


async def test_each_429_is_an_audit_line_without_secrets(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = await make_client(**behind_proxy(auth_rate_limit_capacity=1))
    email = await _owner(client)
    password = "a guessed secret 1234"
    assert [(await _login(client, email, password, ATTACKER)).status for _ in range(2)] == [
        401,
        429,
    ]
    audits = [r for r in caplog.records if getattr(r, "event", None) == "rate_limited"]
    assert len(audits) == 1, caplog.text
    record = audits[0]
    assert record.levelno == logging.WARNING
    assert getattr(record, "bucket", None) == "token-client"
    assert getattr(record, "path", None) == "/token/"
    assert ATTACKER in str(getattr(record, "client", ""))
    assert int(getattr(record, "retry_after", 0)) >= 1
    local = email.partition("@")[0]
    assert local not in caplog.text
    assert local.upper() not in caplog.text
    assert password not in caplog.text
