"""No input, however hostile, gets a 500: each case found by hand or by schemathesis."""

from __future__ import annotations

import logging
import time
from typing import Any

import asyncpg
import pytest

from service.keys import DB_POOL
from tests.support.api_client import ITEMS, Client, MakeClient, User, create_order, register

ONE = {"product_id": 1, "quantity": 1, "price": 1.5}


def _raw(items: str) -> bytes:
    return b'{"items": [%s]}' % items.encode()


@pytest.mark.parametrize(
    ("body", "loc", "type_"),
    [
        pytest.param(_raw('{"product_id": 1, "quantity": 1, "price": 1e27}'), "price",
                     "less_than_equal", id="price-1e27"),
        pytest.param(_raw('{"product_id": 1, "quantity": 1, "price": "1e400"}'), "price",
                     "decimal_parsing", id="price-text-1e400"),
        pytest.param(_raw('{"product_id": 1, "quantity": 1, "price": 5.85e307}'), "price",
                     "less_than_equal", id="price-5.85e307"),
        pytest.param(_raw('{"product_id": 1, "quantity": 1, "price": 1e400}'), "price",
                     "finite_number", id="price-1e400-overflows"),
        pytest.param(_raw('{"product_id": 1, "quantity": 1, "price": 10000000000}'), "price",
                     "less_than_equal", id="price-above-numeric-12-2"),
        pytest.param(_raw('{"product_id": 1, "quantity": 1, "price": "0.001"}'), "price",
                     "decimal_parsing", id="price-text-3-places"),
        pytest.param(_raw('{"product_id": 1, "quantity": 1, "price": true}'), "price",
                     "decimal_type", id="price-true"),
        pytest.param(_raw('{"product_id": 18446744073709551616, "quantity": 1, "price": 1}'),
                     "product_id", "less_than_equal", id="product_id-2**64"),
        pytest.param(_raw('{"product_id": 9223372036854775808, "quantity": 1, "price": 1}'),
                     "product_id", "less_than_equal", id="product_id-2**63"),
        pytest.param(_raw('{"product_id": true, "quantity": 1, "price": 1}'), "product_id",
                     "int_type", id="product_id-true"),
        pytest.param(_raw('{"product_id": 1, "quantity": true, "price": 1}'), "quantity",
                     "int_type", id="quantity-true"),
        pytest.param(_raw('{"product_id": 1, "quantity": "7", "price": 1}'), "quantity",
                     "int_type", id="quantity-text"),
        pytest.param(_raw('{"product_id": "1", "quantity": 1, "price": 1}'), "product_id",
                     "int_type", id="product_id-text"),
        pytest.param(_raw('{"product_id": 1, "quantity": 2.5, "price": 1}'), "quantity",
                     "int_from_float", id="quantity-fraction"),
        # Integers are JSON integers: a decimal point or an exponent makes a number a float.
        pytest.param(_raw('{"product_id": 1.0, "quantity": 1, "price": 1}'), "product_id",
                     "int_type", id="product_id-1.0"),
        pytest.param(_raw('{"product_id": 1e0, "quantity": 1, "price": 1}'), "product_id",
                     "int_type", id="product_id-1e0"),
        pytest.param(_raw('{"product_id": 1, "quantity": 3.0, "price": 1}'), "quantity",
                     "int_type", id="quantity-3.0"),
        # At most 2 decimals, read on the JSON text: a float would round these to 1.0, 0.1.
        pytest.param(_raw('{"product_id": 1, "quantity": 1, '
                          '"price": 1.000000000000000000000000001}'),
                     "price", "decimal_max_places", id="price-27-decimals"),
        pytest.param(_raw('{"product_id": 1, "quantity": 1, "price": 0.1000000000000000000001}'),
                     "price", "decimal_max_places", id="price-0.1-and-a-bit"),
        pytest.param(_raw('{"product_id": 1, "quantity": 1, "price": 99999999.990000001}'),
                     "price", "decimal_max_places", id="price-17-digits"),
        pytest.param(_raw('{"product_id": 1, "quantity": 1, "price": 1.001}'), "price",
                     "decimal_max_places", id="price-3-decimals"),
        pytest.param(_raw('{"product_id": 1, "quantity": 1, "price": 1e-3}'), "price",
                     "decimal_max_places", id="price-1e-3"),
    ],
)  # fmt: skip
async def test_out_of_range_or_mistyped_items_are_422(
    client: Client, user: User, pool: asyncpg.Pool, body: bytes, loc: str, type_: str
) -> None:
    headers = {**user.headers, "Content-Type": "application/json"}
    resp = await client.post("/orders/", data=body, headers=headers)
    assert resp.status == 422, await resp.text()
    detail = (await resp.json())["detail"]
    assert [(e["loc"], e["type"]) for e in detail] == [(["body", "items", 0, loc], type_)]
    assert await pool.fetchval("SELECT count(*) FROM orders") == 0


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        ("19.99", 19.99),
        ("19.9", 19.9),
        ("20", 20),
        ("1e1", 10),
        ("1.5E1", 15),
        ("19.990", 19.99),
        ("1999e-2", 19.99),
        ("10.000000000000000000000", 10),  # the value has no decimals, however spelled
        ('"19.99"', 19.99),
    ],
)
async def test_a_price_with_at_most_2_decimals_is_taken_whatever_its_spelling(
    client: Client, user: User, price: str, expected: float
) -> None:
    body = _raw(f'{{"product_id": 1, "quantity": 2, "price": {price}}}')
    headers = {**user.headers, "Content-Type": "application/json"}
    resp = await client.post("/orders/", data=body, headers=headers)
    assert resp.status == 201, await resp.text()
    order = await resp.json()
    assert order["items"][0]["price"] == expected
    assert order["total_price"] == round(2 * expected, 2)


async def test_booleans_no_longer_make_an_order(client: Client, user: User) -> None:
    """`"product_id": true, "quantity": true` was a 201 for one unit of product 1."""
    item = {"product_id": True, "quantity": True, "price": 1}
    resp = await client.post("/orders/", json={"items": [item]}, headers=user.headers)
    assert resp.status == 422


async def test_a_body_over_64_kib_is_413(client: Client, user: User) -> None:
    padding = " " * (64 * 1024)
    body = f'{{"items": [{{"product_id": 1, "quantity": 1, "price": 1}}]{padding}}}'
    headers = {**user.headers, "Content-Type": "application/json"}
    resp = await client.post("/orders/", data=body.encode(), headers=headers)
    assert resp.status == 413
    assert "detail" in await resp.json()
    small = await client.post("/orders/", data=body[: 60 * 1024].rstrip() + "}", headers=headers)
    assert small.status == 201, await small.text()


async def test_a_control_character_in_the_list_path_is_not_echoed(
    client: Client, user: User
) -> None:
    """The Link header is built from the parsed user id, never from the raw path."""
    for _ in range(2):
        await create_order(client, user)
    resp = await client.get(f"/orders/user/{user.id}%0d%0a/?limit=1", headers=user.headers)
    assert resp.status == 200
    link = resp.headers["Link"]
    assert link.startswith(f"</orders/user/{user.id}/?limit=1&cursor=")
    assert "\r" not in link
    assert "\n" not in link
    resp = await client.get("/orders/user/1%0d%0aX-Evil:%201/", headers=user.headers)
    assert resp.status == 422


async def test_a_nul_byte_in_the_token_username_is_401(client: Client, user: User) -> None:
    resp = await client.post("/token/", data={"username": "a\x00b@example.com", "password": "x"})
    assert resp.status == 401
    assert await resp.json() == {"detail": "incorrect email or password"}


async def test_multipart_without_boundary_on_token_is_422(client: Client) -> None:
    headers = {"Content-Type": "multipart/form-data"}
    resp = await client.post("/token/", data=b"--x\r\n\r\n", headers=headers)
    assert resp.status == 422
    locs = [e["loc"] for e in (await resp.json())["detail"]]
    assert ["body", "username"] in locs


async def test_undecodable_form_bytes_are_an_unknown_user(client: Client) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    resp = await client.post("/token/", data=b"username=%ff%fe&password=\xff", headers=headers)
    assert resp.status == 401


@pytest.mark.parametrize(
    "email",
    ["a\x00b@example.com", "a@exa\x00mple.com", "x" * 400 + "@example.com", "a@b@example.com"],
)
async def test_register_refuses_hostile_emails_with_422(client: Client, email: str) -> None:
    resp = await client.post("/register/", json={"email": email, "password": "long enough"})
    assert resp.status == 422, await resp.text()


async def test_a_username_of_60_kb_of_combining_marks_is_422_at_once(client: Client) -> None:
    """It took 3-4 s of the event loop (NFC twice, before any length check), and /health
    on the same process waited meanwhile."""
    username = "a" + "\u0323\u0302" * 15000 + "@b.com"
    body = f"username={username}&password=xxxxxxxx".encode()  # raw UTF-8: 60 KB
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    started = time.monotonic()
    resp = await client.post("/token/", data=body, headers=headers)
    assert resp.status == 422, await resp.text()
    assert time.monotonic() - started < 1.0
    detail = (await resp.json())["detail"]
    assert [(e["loc"], e["type"]) for e in detail] == [(["body", "username"], "string_too_long")]


@pytest.mark.parametrize(
    ("form", "loc"),
    [
        ({"username": "a" * 309 + "@example.com", "password": "long enough"}, "username"),
        ({"username": "ada@example.com", "password": "p" * 257}, "password"),
    ],
)
async def test_token_fields_over_the_contract_bounds_are_422(
    client: Client, form: dict[str, str], loc: str
) -> None:
    resp = await client.post("/token/", data=form)
    assert resp.status == 422, await resp.text()
    detail = (await resp.json())["detail"]
    assert [(e["loc"], e["type"]) for e in detail] == [(["body", loc], "string_too_long")]


async def test_register_refuses_an_email_over_320_characters_before_normalising(
    client: Client,
) -> None:
    email = "a" + "\u0323" * 400 + "@example.com"
    resp = await client.post("/register/", json={"email": email, "password": "long enough"})
    assert resp.status == 422, await resp.text()
    detail = (await resp.json())["detail"]
    assert [(e["loc"], e["type"]) for e in detail] == [(["body", "email"], "string_too_long")]


async def test_a_token_whose_user_is_gone_is_401(
    client: Client, user: User, pool: asyncpg.Pool
) -> None:
    await pool.execute("DELETE FROM users WHERE id = $1", user.id)
    resp = await client.post("/orders/", json={"items": ITEMS}, headers=user.headers)
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    resp = await client.post(
        "/orders/", json={"items": ITEMS}, headers={**user.headers, "Idempotency-Key": "k-1"}
    )
    assert resp.status == 401
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 0


async def test_a_statement_timeout_is_503_with_retry_after(
    make_client: MakeClient, pool: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    """A PATCH waiting on a row another transaction holds is cancelled by PostgreSQL."""
    client = await make_client(db_statement_timeout_seconds=0.3)
    user = await register(client)
    order = await create_order(client, user)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT 1 FROM orders WHERE id = $1::uuid FOR UPDATE", order["id"])
        started = time.monotonic()
        with caplog.at_level(logging.ERROR, logger="api.errors"):
            resp = await client.patch(
                f"/orders/{order['id']}/", json={"status": "PAID"}, headers=user.headers
            )
        waited = time.monotonic() - started
    assert resp.status == 503, await resp.text()
    assert waited < 3.0, "PostgreSQL cancelled it, not the client's 10 s command timeout"
    assert "busy" in (await resp.json())["detail"]
    assert resp.headers["Retry-After"] == "1"
    assert not caplog.records, "no 500 logged"
    status = await pool.fetchval("SELECT status FROM orders WHERE id = $1::uuid", order["id"])
    assert status == "PENDING"


async def test_pool_exhaustion_is_503_after_a_bounded_wait(make_client: MakeClient) -> None:
    overrides: dict[str, Any] = {
        "db_pool_min_size": 1,
        "db_pool_max_size": 1,
        "db_acquire_timeout_seconds": 0.2,
    }
    client = await make_client(**overrides)
    user = await register(client)
    async with client.app[DB_POOL].acquire():  # the only connection, held
        resp = await client.get(f"/orders/user/{user.id}/", headers=user.headers)
    assert resp.status == 503
    assert resp.headers["Retry-After"] == "1"
    assert (await client.get(f"/orders/user/{user.id}/", headers=user.headers)).status == 200
