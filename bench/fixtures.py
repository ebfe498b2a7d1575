"""Benchmark data made through the API, as a client would: users, tokens, orders."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

import aiohttp
import orjson

PASSWORD = "bench-password-0123456789"
ORDER_BODY = orjson.dumps(
    {
        "items": [
            {"product_id": 1, "quantity": 2, "price": 9.99},
            {"product_id": 42, "quantity": 1, "price": 120.5},
        ]
    }
)


@dataclass(frozen=True, slots=True)
class BenchUser:
    id: int
    token: str


async def _expect(resp: aiohttp.ClientResponse, status: int) -> bytes:
    body = await resp.read()
    if resp.status != status:
        raise SystemExit(f"{resp.method} {resp.url} answered {resp.status}: {body[:500]!r}")
    return body


async def register(session: aiohttp.ClientSession, email: str) -> BenchUser:
    async with session.post("/register/", json={"email": email, "password": PASSWORD}) as resp:
        user_id = orjson.loads(await _expect(resp, 201))["id"]
    form = {"username": email, "password": PASSWORD}
    async with session.post("/token/", data=form) as resp:
        token = orjson.loads(await _expect(resp, 200))["access_token"]
    return BenchUser(id=int(user_id), token=str(token))


async def register_users(service_url: str, count: int, label: str) -> list[BenchUser]:
    """`count` new users with tokens; the service hashes passwords, so a few at a time."""
    run = secrets.token_hex(4)
    limit = asyncio.Semaphore(4)
    async with aiohttp.ClientSession(service_url) as session:

        async def one(i: int) -> BenchUser:
            async with limit:
                return await register(session, f"bench-{label}-{run}-{i}@example.com")

        return list(await asyncio.gather(*(one(i) for i in range(count))))


async def create_orders(url: str, users: list[BenchUser], per_user: int) -> list[tuple[str, str]]:
    """`per_user` orders for each user on the server at `url`: (order id, owner's token)."""
    made: list[tuple[str, str]] = []
    async with aiohttp.ClientSession(url) as session:
        for _ in range(per_user):
            for user in users:
                headers = {
                    "Authorization": f"Bearer {user.token}",
                    "Content-Type": "application/json",
                }
                async with session.post("/orders/", data=ORDER_BODY, headers=headers) as resp:
                    made.append((orjson.loads(await _expect(resp, 201))["id"], user.token))
    return made
