"""`/token/`'s buckets: guessing is slowed down, and no stranger can lock an owner out.

- `token-client`, strict (`AUTH_RATE_LIMIT_*`: 10, then one every 5 s): one account from
  one address, so a guesser meets 429 at its 11th guess and nobody else does;
- `token-account`, looser (`AUTH_FAILURE_RATE_LIMIT_*`: 50, then one every 5 s): one account
  from every address together, which bounds a guesser that changes address; an address the
  account logged in from before (for `known_client_ttl`, 30 days) is spared it;
- `token-address`, as loose: one address over every account (one guess at each of many
  accounts), the known addresses spared the same way.

The looser buckets count failures only, the strict one too: every attempt takes its
tokens before the password is checked (so concurrent guesses cannot overrun a bucket), and
a successful login gives back exactly what it took: it consumes nothing and resets nothing
a guesser could use. An attempt refused before any password was checked (503) gives its
tokens back too.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from api.ratelimit import RateLimitConfig, Throttle, refuse, scoped
from core.audit import account_label
from core.errors import RateLimited, Unavailable
from core.ratelimit import Claim, Policy, refused


@functools.cache
def _policies(config: RateLimitConfig) -> tuple[Policy, Policy, Policy]:
    return (
        scoped("token-client", config.credentials),
        scoped("token-account", config.failures),
        scoped("token-address", config.failures),
    )


@asynccontextmanager
async def login_attempt(
    throttle: Throttle, request: web.Request, account: str
) -> AsyncIterator[None]:
    """The block checks `account`'s password: a 429 (RateLimited) instead when over a
    limit; its tokens stay taken unless the block succeeds or finds a dependency down."""
    buckets, config = throttle.buckets, throttle.config
    address = throttle.client_address(request)
    by_client, by_account, by_address = _policies(config)
    known = f"login|{account}|{address}"
    claims: list[Claim] = [(f"{account}|{address}", by_client)]
    if not await buckets.knows(known):
        claims += [(account, by_account), (f"addr:{address}", by_address)]
    decisions = await buckets.take(claims)
    if refused(decisions):
        client = f"{account_label(account)} addr:{address}"
        raise RateLimited(refuse(request, decisions, client, "token"))
    try:
        yield
    except Unavailable:
        await buckets.give_back(claims)  # refused before any password was checked
        raise
    await buckets.give_back(claims)
    await buckets.remember(known, int(config.known_client_ttl.total_seconds()))
