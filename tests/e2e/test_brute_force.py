"""A 60-guess brute force on /token/, against the service with its default settings."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest

from tests.support.api import ApiUser
from tests.support.stack import Stack

pytestmark = pytest.mark.slow


async def test_sixty_guesses_meet_429_well_before_the_sixtieth(
    stack: Stack, http: aiohttp.ClientSession, record_property: Callable[[str, object], None]
) -> None:
    stack.overrides["RATE_LIMIT_ENABLED"] = "true"  # the default, which the e2e stack turns off
    stack.start_service()
    victim = await ApiUser(http, stack.base_url).sign_up()  # one /token/ call of its own
    statuses: list[int] = []
    retry_after: list[str] = []
    email = victim.email
    for i in range(60):
        form = {"username": email, "password": f"guess number {i}"}
        async with http.post(f"{stack.base_url}/token/", data=form) as resp:
            statuses.append(resp.status)
            if resp.status == 429:
                retry_after.append(resp.headers["Retry-After"])
                assert await resp.json() == {"detail": "rate limit exceeded"}
    first = statuses.index(429)
    record_property("first_429_at_guess", first + 1)  # in the JUnit report, if one is asked for
    assert first < 12, statuses  # 10 attempts per account (the victim's login was one)
    assert set(statuses) == {401, 429}
    assert all(int(value) >= 1 for value in retry_after)
    assert statuses[first:] == [429] * (60 - first), "no guess gets through once limited"
