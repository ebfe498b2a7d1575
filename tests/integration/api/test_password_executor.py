"""A flood of logins gets 503 with Retry-After at once instead of queueing without bound."""

from __future__ import annotations

import asyncio
import time

from tests.support.api_client import PASSWORD, MakeClient, random_email


async def test_a_full_hashing_queue_is_503_with_retry_after(make_client: MakeClient) -> None:
    client = await make_client(
        password_hash_memory_kib=19 * 1024,
        password_hash_time_cost=2,
        password_hash_workers=1,
        password_hash_queue=1,
    )

    async def register() -> tuple[int, str | None, float]:
        started = time.perf_counter()
        resp = await client.post("/register/", json={"email": random_email(), "password": PASSWORD})
        await resp.read()
        return resp.status, resp.headers.get("Retry-After"), time.perf_counter() - started

    results = await asyncio.gather(*(register() for _ in range(8)))
    refused = [r for r in results if r[0] == 503]
    assert {r[0] for r in results} == {201, 503}
    assert len(refused) >= 4
    assert all(retry == "1" for _, retry, _ in refused)
    fastest_ok = min(elapsed for status, _, elapsed in results if status == 201)
    assert max(elapsed for _, _, elapsed in refused) < fastest_ok + 0.5
